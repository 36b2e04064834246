"""Metric arithmetic: additive leaf counters, their sums, and the derived metrics' text.

Counts and spend are integers (spend in cents) so sums are exact across levels.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from hashlib import blake2b

# Additive leaf counters, in this order in every counter vector. ``spend`` is in cents and
# ``play_time_ds`` (total play time in deciseconds) only feeds ``average_video_play``.
COUNTERS = (
    "impressions",
    "clicks",
    "spend",
    "conversion",
    "real_time_conversion",
    "result",
    "video_play_actions",
    "video_watched_2s",
    "video_watched_6s",
    "video_views_p25",
    "video_views_p50",
    "video_views_p75",
    "video_views_p100",
    "likes",
    "comments",
    "shares",
    "follows",
    "profile_visits",
    "play_time_ds",
)
INDEX = {name: i for i, name in enumerate(COUNTERS)}
ADDITIVE_METRICS = tuple(name for name in COUNTERS if name != "play_time_ds")
UNAVAILABLE = "-"


def uniforms(key: str) -> list[float]:
    """Eight deterministic numbers in [0, 1) from a key."""
    digest = blake2b(key.encode(), digest_size=32).digest()
    return [int.from_bytes(digest[i : i + 4], "little") / 4294967296.0 for i in range(0, 32, 4)]


def hundredths(numerator: int, denominator: int) -> str:
    """numerator / denominator rounded half-up to 2 decimals, from integers (no float drift)."""
    scaled = (numerator * 200 + denominator) // (2 * denominator)
    return f"{scaled // 100}.{scaled % 100:02d}"


def format_cents(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def utc_text(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


@dataclass
class Totals:
    """Aggregated leaves: additive counters plus (non-additive) reach.

    ``reach_known`` false makes reach and frequency "-" (the API does that for some rows).
    """

    counters: list[int]
    reach: int
    reach_known: bool = True

    def metric(self, name: str) -> str:  # noqa: PLR0911 - one branch per derived metric
        c = self.counters
        if name in INDEX:
            return format_cents(c[INDEX["spend"]]) if name == "spend" else str(c[INDEX[name]])
        impressions, clicks, spend = c[INDEX["impressions"]], c[INDEX["clicks"]], c[INDEX["spend"]]
        if name == "ctr":
            return hundredths(clicks * 100, impressions) if impressions else "0.00"
        if name == "cpm":
            return hundredths(spend * 10, impressions) if impressions else "0.00"
        if name == "cpc":
            return hundredths(spend, clicks * 100) if clicks else "0.00"
        if name == "conversion_rate":
            return hundredths(c[INDEX["conversion"]] * 100, clicks) if clicks else "0.00"
        if name == "cost_per_conversion":
            conversion = c[INDEX["conversion"]]
            return hundredths(spend, conversion * 100) if conversion else UNAVAILABLE
        if name == "cost_per_result":
            result = c[INDEX["result"]]
            return hundredths(spend, result * 100) if result else UNAVAILABLE
        if name == "average_video_play":
            plays = c[INDEX["video_play_actions"]]
            return hundredths(c[INDEX["play_time_ds"]], plays * 10) if plays else "0.00"
        if name in ("cash_spend", "voucher_spend"):
            # A tenth of the spend paid with ad credit (vouchers); the two add up to spend.
            voucher = spend // 10
            return format_cents(voucher if name == "voucher_spend" else spend - voucher)
        if name == "reach":
            return str(self.reach) if self.reach_known else UNAVAILABLE
        if name == "frequency":
            known = self.reach_known and self.reach
            return hundredths(impressions, self.reach) if known else UNAVAILABLE
        raise KeyError(name)


def combine(parts: Iterable[Totals]) -> Totals:
    """Sum counters; estimate reach as overlapping audiences (never a plain sum)."""
    counters = [0] * len(COUNTERS)
    reaches: list[int] = [0]
    known = False
    for part in parts:
        for i, value in enumerate(part.counters):
            counters[i] += value
        reaches.append(part.reach)
        known = known or part.reach_known
    reach = min(max(*reaches, sum(reaches) * 85 // 100), counters[INDEX["impressions"]])
    return Totals(counters, reach, known)
