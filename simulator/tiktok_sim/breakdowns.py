"""AUDIENCE reports and hourly rows: the simulator's rules for them, and their pages.

The simulator's own reading of TikTok's report docs (audience reports, doc 1738864928947201;
time limits, doc 1714590313280513), independent of the tap:

* ``report_type=AUDIENCE`` needs one audience breakdown: ``age``, ``gender``, both, or one of
  ``country_code``, ``platform``, ``language``, ``ac``; with the level's id dimension and
  ``stat_time_day`` (or nothing, for lifetime). ``stat_time_hour`` is 40002 there.
* Audience reports serve the delivery and conversion metrics only: reach, frequency, video
  and engagement metrics are 40002.
* ``stat_time_hour`` (BASIC) spans at most one day per request.

Numbers: each ad-group day is split over hours and audience segments by integer shares that
add up exactly, so an audience or hourly report sums to the daily BASIC report.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from functools import partial
from itertools import product
from typing import TYPE_CHECKING, Any

from tiktok_sim.dataset import Dataset
from tiktok_sim.metrics import COUNTERS, Totals, combine, uniforms
from tiktok_sim.params import param_error
from tiktok_sim.shapes import shape_metrics

if TYPE_CHECKING:
    from tiktok_sim.config import SimConfig
    from tiktok_sim.report import ReportGroup, ReportQuery, Scope

AUDIENCE = "AUDIENCE"
DAY = "stat_time_day"
HOUR = "stat_time_hour"
MAX_HOURLY_SPAN_DAYS = 1

#: Audience dimension -> the values rows carry, with a base weight each.
SEGMENTS: dict[str, dict[str, int]] = {
    "age": {
        "AGE_13_17": 4,
        "AGE_18_24": 30,
        "AGE_25_34": 33,
        "AGE_35_44": 18,
        "AGE_45_54": 9,
        "AGE_55_100": 6,
    },
    "gender": {"FEMALE": 52, "MALE": 45, "NONE": 3},
    "country_code": {"US": 40, "GB": 15, "DE": 14, "FR": 12, "BR": 11, "JP": 8},
    "platform": {"ANDROID": 55, "IPHONE": 38, "IPAD": 4, "OTHERS": 3},
    "language": {"en": 50, "de": 14, "fr": 12, "pt": 12, "es": 8, "ja": 4},
    "ac": {"WIFI": 48, "4G": 32, "5G": 17, "3G": 3},
}
#: Breakdowns an audience report accepts (as sorted tuples).
BREAKDOWNS = frozenset(
    {("age",), ("gender",), ("age", "gender"), ("country_code",), ("platform",), ("language",),
     ("ac",)}
)  # fmt: skip
AUDIENCE_METRICS = frozenset(
    {
        "spend",
        "impressions",
        "clicks",
        "ctr",
        "cpm",
        "cpc",
        "conversion",
        "cost_per_conversion",
        "conversion_rate",
        "real_time_conversion",
        "result",
        "cost_per_result",
    }
)
# Share of a day's delivery in each hour (local time): low at night, high in the evening.
HOUR_WEIGHTS = (3, 2, 1, 1, 1, 2, 3, 4, 5, 5, 5, 6, 6, 5, 5, 5, 6, 7, 8, 9, 9, 8, 6, 4)


def audience_dimensions() -> frozenset[str]:
    return frozenset(SEGMENTS)


def check_audience_dimensions(report_type: str, dimensions: Sequence[str]) -> None:
    """40002 unless the breakdown (and time dimension) suits the report type."""
    breakdown = tuple(sorted(d for d in dimensions if d in SEGMENTS))
    if report_type != AUDIENCE:
        if breakdown:
            raise param_error(
                f"dimensions: {', '.join(breakdown)} need report_type AUDIENCE, not {report_type}."
            )
        return
    if HOUR in dimensions:
        raise param_error("dimensions: stat_time_hour is not supported for AUDIENCE reports.")
    if breakdown not in BREAKDOWNS:
        shown = "; ".join("+".join(b) for b in sorted(BREAKDOWNS))
        raise param_error(
            f"dimensions: AUDIENCE reports need one audience breakdown ({shown}); got "
            f"{'+'.join(breakdown) or 'none'}."
        )


def check_audience_metric(report_type: str, name: str) -> None:
    if report_type == AUDIENCE and name not in AUDIENCE_METRICS:
        raise param_error(f"metrics: Invalid metric {name} for report_type AUDIENCE.")


def needs_breakdown_page(query: ReportQuery) -> bool:
    return query.report_type == AUDIENCE or HOUR in query.dimensions


def _shares(total: int, weights: Sequence[int]) -> list[int]:
    """``total`` split by integer ``weights`` so the parts add up exactly."""
    whole = sum(weights)
    parts, running, given = [], 0, 0
    for weight in weights:
        running += weight
        upto = total * running // whole
        parts.append(upto - given)
        given = upto
    return parts


def _segment_weights(seed: int, adgroup_id: str, breakdown: Sequence[str]) -> list[int]:
    """Weight of each segment (product of the breakdown's values) for one ad group."""
    per_dimension = []
    for name in breakdown:
        u = uniforms(f"{seed}:{adgroup_id}:{name}")
        base = SEGMENTS[name]
        per_dimension.append(
            [weight * (80 + int(40 * u[i % 8])) for i, weight in enumerate(base.values())]
        )
    weights = []
    for combination in product(*per_dimension):
        weight = 1
        for part in combination:
            weight *= part
        weights.append(weight)
    return weights


def _split(totals: Totals, weights: Sequence[int], index: int) -> Totals:
    counters = [_shares(value, weights)[index] for value in totals.counters]
    reach = _shares(totals.reach, weights)[index]
    return Totals(counters, reach, totals.reach_known)


def _bucket_totals(
    dataset: Dataset,
    group: ReportGroup,
    days: Sequence[date],
    hour: int | None,
    *,
    breakdown: Sequence[str],
    segment: int,
) -> Totals:
    parts = []
    # An AUCTION_AD row is its ad's share of the ad group (as in BASIC reports), split over
    # hours and segments with the ad group's weights.
    leaves: list[tuple[str, Callable[[date], Totals]]] = (
        [(ad.adgroup_id, partial(dataset.ad_leaf, ad)) for ad in group.ads]
        if group.ads is not None
        else [(g.adgroup_id, partial(dataset.leaf, g)) for g in group.adgroups]
    )
    for adgroup_id, leaf_of in leaves:
        weights = _segment_weights(dataset.config.seed, adgroup_id, breakdown)
        for day in days:
            leaf = leaf_of(day)
            if hour is not None:
                leaf = _split(leaf, HOUR_WEIGHTS, hour)
            if breakdown:
                leaf = _split(leaf, weights, segment)
            parts.append(leaf)
    if len(parts) == 1:
        return parts[0]
    return combine(parts) if parts else Totals([0] * len(COUNTERS), 0)


def breakdown_page(
    query: ReportQuery, dataset: Dataset, config: SimConfig, scope: Scope
) -> tuple[dict[str, Any], dict[str, str]]:
    """One page of an audience or hourly report: rows are group x time bucket x segment."""
    groups = scope.groups
    breakdown = [d for d in query.dimensions if d in SEGMENTS]
    segments = list(product(*(list(SEGMENTS[name]) for name in breakdown)))
    days = dataset.days_with_data(query.advertiser_id, query.start, query.end)
    hourly = HOUR in query.dimensions
    if DAY in query.dimensions or hourly:
        buckets: list[tuple[list[date], int | None]] = [
            ([day], hour) for day in days for hour in (range(24) if hourly else [None])
        ]
    else:
        buckets = [(days, None)] if days else []
    per_group = len(buckets) * len(segments)
    total = len(groups) * per_group
    first = (query.page - 1) * query.page_size
    rows = []
    for index in range(first, min(first + query.page_size, total)):
        group = groups[index // per_group]
        bucket, segment = divmod(index % per_group, len(segments))
        bucket_days, hour = buckets[bucket]
        totals = _bucket_totals(
            dataset, group, bucket_days, hour, breakdown=breakdown, segment=segment
        )
        values = dict(zip(breakdown, segments[segment], strict=True))
        rows.append(_row(query, group, (bucket_days, hour), values, totals=totals, config=config))
    data: dict[str, Any] = {
        "list": rows,
        "page_info": {
            "page": query.page,
            "page_size": query.page_size,
            "total_number": total,
            "total_page": -(-total // query.page_size),
        },
    }
    return data, scope.headers


def _row(
    query: ReportQuery,
    group: ReportGroup,
    bucket: tuple[list[date], int | None],
    segment: dict[str, str],
    *,
    totals: Totals,
    config: SimConfig,
) -> dict[str, Any]:
    days, hour = bucket
    dimensions: dict[str, str] = {}
    for name in query.dimensions:
        if name == DAY:
            dimensions[name] = f"{days[0].isoformat()} 00:00:00"
        elif name == HOUR:
            dimensions[name] = f"{days[0].isoformat()} {hour:02d}:00:00"
        elif name in segment:
            dimensions[name] = segment[name]
        else:
            dimensions[name] = group.dimensions[name]
    metrics = {name: totals.metric(name) for name in query.metrics if name not in group.attributes}
    if config.real_value_shapes:
        parts = [*group.dimensions.values(), days[0].isoformat(), str(hour), *segment.values()]
        key = "/".join(parts)
        shaped: dict[str, Any] = shape_metrics(metrics, key)
    else:
        shaped = dict(metrics)
    return {
        "dimensions": dimensions,
        "metrics": {
            name: group.attributes[name] if name in group.attributes else shaped[name]
            for name in query.metrics
        },
    }
