"""Reconciliation with TikTok's own totals (setting ``reconcile_totals``).

With ``enable_total_metrics`` a synchronous report's ``data.total_metrics`` holds the query's
totals over every page (TikTok's SDK docs list the parameter; default false). The queries of a
window (one, or several after a split: ``report_queries``) cover its rows without overlap, so
their totals add up to the window's; the tap sums the additive metrics of the records it
emitted for the window and compares. A difference means rows were lost or repeated on the way
(pages that changed while being read, rows left out without a warning), the very thing a
backfill should not hide.

Only additive metrics are compared: ratios (ctr, cpc, ...) and reach (unique users) do not
add up across rows. Counts must match exactly, spend within a cent (it is money in cents; the
cent covers a total rounded apart from its rows).
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar, cast

import orjson
from singer_sdk import metrics
from singer_sdk.exceptions import FatalAPIError

from tap_tiktok_ads.pagination import RawPage
from tap_tiktok_ads.values import LOGGER
from tap_tiktok_ads.windows import DateWindow

Query = TypeVar("Query")

#: Counters that add up across rows (the report metrics the streams emit).
ADDITIVE_METRICS = (
    "spend",
    "impressions",
    "clicks",
    "conversion",
    "video_play_actions",
    "video_watched_2s",
    "video_watched_6s",
)
#: Decimal metrics and their tolerance; the others must match exactly.
TOLERANCE = {"spend": Decimal("0.01")}


class TapMetric(str, enum.Enum):
    """The tap's own METRIC line (the SDK's ``Metric`` names only its own)."""

    RECONCILE_MISMATCH_COUNT = "reconcile_mismatch_count"


def page_totals(page: RawPage) -> dict[str, Decimal] | None:
    """``data.total_metrics`` of a first page, as numbers; None when TikTok sent none."""
    data = orjson.loads(page.body).get("data") or {}
    totals = data.get("total_metrics") if isinstance(data, dict) else None
    if not isinstance(totals, dict):
        return None
    return {name: _decimal(value) for name, value in totals.items()}


def plan_totals(first_pages: Iterable[RawPage]) -> dict[str, Decimal] | None:
    """The window's totals: the sum of its queries' totals (None if one query had none)."""
    result: dict[str, Decimal] = {}
    for page in first_pages:
        totals = page_totals(page)
        if totals is None:
            return None
        for name, value in totals.items():
            result[name] = result.get(name, Decimal(0)) + value
    return result


def _decimal(value: object) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return Decimal(0)  # "-": nothing to add


@dataclass
class WindowSums:
    """The additive metrics of the records emitted for one window."""

    names: tuple[str, ...]
    sums: dict[str, Decimal] = field(default_factory=dict)

    def add(self, record: Mapping[str, Any]) -> None:
        for name in self.names:
            value = record.get(name)
            if value is not None:
                self.sums[name] = self.sums.get(name, Decimal(0)) + Decimal(str(value))

    def differences(self, expected: Mapping[str, Decimal]) -> list[str]:
        """``name emitted X, TikTok Y`` for each metric outside its tolerance."""
        found = []
        for name in self.names:
            if name not in expected:
                continue
            emitted = self.sums.get(name, Decimal(0))
            if abs(emitted - expected[name]) > TOLERANCE.get(name, Decimal(0)):
                found.append(f"{name} emitted {emitted.normalize():f}, TikTok {expected[name]:f}")
        return found


@dataclass
class Reconciler:
    """One stream and advertiser: each window's plan totals, emitted sums and verdict.

    ``mode`` ``warn`` logs and counts a mismatch; ``fail`` raises before the caller moves the
    window's bookmark.
    """

    stream: str
    level: str
    advertiser_id: str
    mode: str
    names: tuple[str, ...]
    expected: dict[DateWindow, dict[str, Decimal] | None] = field(default_factory=dict)
    mismatches: int = 0
    sums: WindowSums = field(init=False)

    def __post_init__(self) -> None:
        self.sums = WindowSums(self.names)

    @classmethod
    def of(
        cls, mode: str, stream: str, level: str, advertiser_id: str, metrics: Iterable[str]
    ) -> Reconciler | None:
        if mode == "off":
            return None
        names = tuple(m for m in ADDITIVE_METRICS if m in set(metrics))
        return cls(stream, level, advertiser_id, mode, names)

    def plan(
        self, make_plan: Callable[[DateWindow], list[tuple[Query, RawPage]]], window: DateWindow
    ) -> list[tuple[Query, RawPage]]:
        """``make_plan(window)``, noting the totals its first pages carry (fetch threads)."""
        planned = make_plan(window)
        self.expected[window] = plan_totals(page for _, page in planned)
        return planned

    def add(self, record: Mapping[str, Any]) -> None:
        self.sums.add(record)

    def window_done(self, window: DateWindow) -> None:
        """Compare the window's sums with TikTok's totals, then start the next window."""
        expected, sums = self.expected.pop(window, None), self.sums
        self.sums = WindowSums(self.names)
        where = f"{self.stream} ({self.level}) for advertiser {self.advertiser_id}, window "
        where += f"{window.start}..{window.end}"
        if expected is None:
            LOGGER.warning("%s: TikTok sent no total_metrics to reconcile", where)
            return
        differences = sums.differences(expected)
        if not differences:
            return
        line = f"Totals mismatch: {where}: {'; '.join(differences)}"
        if self.mode == "fail":
            msg = f"{line}. The window's bookmark did not move; run the sync again"
            raise FatalAPIError(msg)
        LOGGER.warning("%s", line)
        self.mismatches += 1

    def log_count(self) -> None:
        """One METRIC line per stream and advertiser, beside the SDK's record counts."""
        point = metrics.Point(
            "counter",
            cast("metrics.Metric", TapMetric.RECONCILE_MISMATCH_COUNT),
            self.mismatches,
            {
                metrics.Tag.STREAM: self.stream,
                metrics.Tag.CONTEXT: {"advertiser_id": self.advertiser_id},
            },
        )
        metrics.log(logging.getLogger(metrics.METRICS_LOGGER_NAME), point)
