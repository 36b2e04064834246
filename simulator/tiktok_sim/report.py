"""GET /report/integrated/get/: validation and page generation from row indexes."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from tiktok_sim import breakdowns
from tiktok_sim.config import SimConfig
from tiktok_sim.dataset import (
    LEVEL_AD,
    LEVEL_ADGROUP,
    LEVEL_ADVERTISER,
    LEVEL_CAMPAIGN,
    LEVELS,
    Ad,
    AdGroup,
    Dataset,
    Totals,
)
from tiktok_sim.limits import THROTTLE_HEADER, check_query_size, newest, throttle_text
from tiktok_sim.metrics import ADDITIVE_METRICS
from tiktok_sim.params import Params, param_error
from tiktok_sim.report_filters import ReportFilters, parse_filters
from tiktok_sim.shapes import shape_metrics

MAX_DAILY_SPAN_DAYS = 30
MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 10
DEFAULT_METRICS = ("spend", "impressions", "clicks")

# Every metric a report serves: the additive counters (summed exactly across levels) and
# those derived from them or from the dataset (rates, reach).
METRICS = frozenset(ADDITIVE_METRICS) | {
    "ctr",
    "cpm",
    "cpc",
    "reach",
    "frequency",
    "cost_per_conversion",
    "conversion_rate",
    "cost_per_result",
    "average_video_play",
    "cash_spend",
    "voucher_spend",
}
# Metrics the API serves at one data level only: the spend split into cash and ad credit is
# an account-level figure ("supported at advertiser level"); elsewhere 40002.
LEVEL_ONLY_METRICS = {"cash_spend": LEVEL_ADVERTISER, "voucher_spend": LEVEL_ADVERTISER}
# Attribute metrics (object properties) allowed per data level.
ATTRIBUTE_METRICS = {
    LEVEL_ADVERTISER: ("advertiser_name", "currency"),
    LEVEL_CAMPAIGN: ("campaign_name", "objective_type"),
    LEVEL_ADGROUP: ("adgroup_name", "campaign_id", "campaign_name"),
    LEVEL_AD: (
        "ad_name",
        "ad_text",
        "call_to_action",
        "adgroup_id",
        "adgroup_name",
        "campaign_id",
        "campaign_name",
    ),
}
ID_DIMENSION = {
    LEVEL_ADVERTISER: "advertiser_id",
    LEVEL_CAMPAIGN: "campaign_id",
    LEVEL_ADGROUP: "adgroup_id",
    LEVEL_AD: "ad_id",
}
DAY = "stat_time_day"
HOUR = breakdowns.HOUR
REPORT_TYPES = ("BASIC", breakdowns.AUDIENCE)


@dataclass(frozen=True)
class ReportGroup:
    """One object a report has rows for: its id dimension, attributes and ad-group leaves."""

    dimensions: dict[str, str]
    attributes: dict[str, str]
    adgroups: list[AdGroup]
    #: AUCTION_AD rows: the ads summed (their shares of ``adgroups``' leaves).
    ads: list[Ad] | None = None


@dataclass(frozen=True)
class ReportQuery:
    advertiser_id: str
    level: str
    dimensions: list[str]
    metrics: list[str]
    start: date
    end: date
    page: int
    page_size: int
    filters: ReportFilters
    total_metrics: bool
    report_type: str = "BASIC"

    @property
    def daily(self) -> bool:
        return DAY in self.dimensions


def parse_report_query(
    params: Params, advertiser_id: str, dataset: Dataset, config: SimConfig
) -> ReportQuery:
    report_type = params.required_text("report_type")
    if report_type not in REPORT_TYPES:
        raise param_error(
            f"report_type: {report_type} is not supported (the simulator serves "
            f"{', '.join(REPORT_TYPES)})."
        )
    level = params.required_text("data_level")
    if level not in LEVELS:
        raise param_error(f"data_level: {level} is not supported; use one of {', '.join(LEVELS)}.")
    dimensions = _parse_dimensions(params, level, report_type)
    start, end = _parse_dates(params, advertiser_id, dataset, dimensions)
    filters = parse_filters(params.json_list("filtering"), level, config.hide_special_campaigns)
    return ReportQuery(
        advertiser_id=advertiser_id,
        level=level,
        dimensions=dimensions,
        metrics=_parse_metrics(params, level, dimensions, report_type),
        start=start,
        end=end,
        page=params.integer("page", 1, 1, 1_000_000_000),
        page_size=params.integer("page_size", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE),
        filters=filters,
        total_metrics=params.boolean("enable_total_metrics"),
        report_type=report_type,
    )


def _parse_dimensions(params: Params, level: str, report_type: str) -> list[str]:
    dimensions = params.string_list("dimensions", required=True) or []
    if not dimensions:
        raise param_error("dimensions: Must not be empty.")
    allowed = {ID_DIMENSION[level], DAY, HOUR, *breakdowns.audience_dimensions()}
    for name in dimensions:
        if name not in allowed:
            raise param_error(
                f"dimensions: Invalid dimension {name} for data_level {level}; "
                f"allowed: {', '.join(sorted(allowed))}."
            )
    if len(set(dimensions)) != len(dimensions):
        raise param_error("dimensions: Duplicate dimension.")
    if DAY in dimensions and HOUR in dimensions:
        raise param_error("dimensions: Use stat_time_day or stat_time_hour, not both.")
    breakdowns.check_audience_dimensions(report_type, dimensions)
    return dimensions


def _parse_metrics(
    params: Params, level: str, dimensions: list[str], report_type: str = "BASIC"
) -> list[str]:
    metrics = params.string_list("metrics") or list(DEFAULT_METRICS)
    for name in metrics:
        if name in ATTRIBUTE_METRICS[level]:
            if ID_DIMENSION[level] not in dimensions:
                raise param_error(
                    f"metrics: Attribute metric {name} needs the {ID_DIMENSION[level]} dimension."
                )
        elif name not in METRICS or LEVEL_ONLY_METRICS.get(name, level) != level:
            raise param_error(
                f"metrics: Invalid metric {name} for report_type BASIC and data_level {level}."
            )
        else:
            breakdowns.check_audience_metric(report_type, name)
    return metrics


def _parse_dates(
    params: Params, advertiser_id: str, dataset: Dataset, dimensions: list[str]
) -> tuple[date, date]:
    daily, hourly = DAY in dimensions, HOUR in dimensions
    if params.boolean("query_lifetime"):
        if daily or hourly:
            time = DAY if daily else HOUR
            raise param_error(f"dimensions: {time} is not allowed with query_lifetime.")
        advertiser = dataset.advertiser(advertiser_id)
        assert advertiser is not None
        return advertiser.first_day, advertiser.last_day
    start, end = params.day("start_date"), params.day("end_date")
    if end < start:
        raise param_error("end_date: Must not be earlier than start_date.")
    span = (end - start).days + 1
    if daily and span > MAX_DAILY_SPAN_DAYS:
        raise param_error(
            f"start_date, end_date: The time range of a daily (stat_time_day) report must not "
            f"exceed {MAX_DAILY_SPAN_DAYS} days; got {span} days."
        )
    if hourly and span > breakdowns.MAX_HOURLY_SPAN_DAYS:
        raise param_error(
            "start_date, end_date: The time range of an hourly (stat_time_hour) report must "
            f"not exceed {breakdowns.MAX_HOURLY_SPAN_DAYS} day; got {span} days."
        )
    return start, end


def report_groups(query: ReportQuery, dataset: Dataset) -> list[ReportGroup]:
    """The objects a report has rows for, in a stable order, with the leaves each one sums."""
    advertiser_id = query.advertiser_id
    filters = query.filters
    groups: list[ReportGroup] = []

    def leaves(ad_groups: list[AdGroup]) -> list[AdGroup]:
        kept = []
        for ad_group in ad_groups:
            campaign = dataset.campaign(ad_group.campaign_id)
            assert campaign is not None
            if filters.keeps(ad_group, campaign):
                kept.append(ad_group)
        return kept

    if query.level == LEVEL_ADVERTISER:
        advertiser = dataset.advertiser(advertiser_id)
        assert advertiser is not None
        attributes = {"advertiser_name": advertiser.name, "currency": advertiser.currency}
        groups.append(
            ReportGroup(
                {"advertiser_id": advertiser_id},
                attributes,
                leaves(dataset.adgroups[advertiser_id]),
            )
        )
    elif query.level == LEVEL_CAMPAIGN:
        for campaign in dataset.campaigns[advertiser_id]:
            if _status_kept(campaign.deleted, filters):
                attributes = {
                    "campaign_name": campaign.campaign_name,
                    "objective_type": campaign.objective_type or "-",
                }
                group = ReportGroup(
                    {"campaign_id": campaign.campaign_id},
                    attributes,
                    leaves(dataset.adgroups_of(campaign)),
                )
                groups.append(group)
    elif query.level == LEVEL_AD:
        for ad_group in leaves(dataset.adgroups[advertiser_id]):
            parent = dataset.campaign(ad_group.campaign_id)
            assert parent is not None
            for ad in dataset.ads_of(ad_group):
                if _status_kept(ad.deleted, filters) and filters.keeps_ad(ad):
                    attributes = {
                        "ad_name": ad.ad_name,
                        "ad_text": ad.ad_text,
                        "call_to_action": ad.call_to_action,
                        "adgroup_id": ad_group.adgroup_id,
                        "adgroup_name": ad_group.adgroup_name,
                        "campaign_id": ad_group.campaign_id,
                        "campaign_name": parent.campaign_name,
                    }
                    groups.append(ReportGroup({"ad_id": ad.ad_id}, attributes, [ad_group], [ad]))
    else:
        for ad_group in leaves(dataset.adgroups[advertiser_id]):
            if _status_kept(ad_group.deleted, filters):
                parent = dataset.campaign(ad_group.campaign_id)
                assert parent is not None
                attributes = {
                    "adgroup_name": ad_group.adgroup_name,
                    "campaign_id": ad_group.campaign_id,
                    "campaign_name": parent.campaign_name,
                }
                groups.append(
                    ReportGroup({"adgroup_id": ad_group.adgroup_id}, attributes, [ad_group])
                )
    groups = [group for group in groups if group.adgroups]
    if ID_DIMENSION[query.level] not in query.dimensions and groups:
        # Without the id dimension all objects collapse into one row per day.
        ads = None if query.level != LEVEL_AD else [a for group in groups for a in group.ads or []]
        groups = [ReportGroup({}, {}, [g for group in groups for g in group.adgroups], ads)]
    return groups


def _status_kept(deleted: bool, filters: ReportFilters) -> bool:
    if filters.deleted == "include":
        return True
    return deleted == (filters.deleted == "only")


@dataclass(frozen=True)
class Scope:
    """What a report covers after TikTok's limits: its groups and the throttle header."""

    groups: list[ReportGroup]
    headers: dict[str, str]


def report_scope(query: ReportQuery, dataset: Dataset, config: SimConfig) -> Scope:
    """Groups of a report, after the 40067 check and the synchronous-report truncation."""
    groups = report_groups(query, dataset)
    days = (query.end - query.start).days + 1
    check_query_size(days, len(query.metrics), len(groups), config.query_size_limit)
    # Each ad group counts once (ad rows share their ad group's leaves).
    leaves = {g.adgroup_id: g for group in groups for g in group.adgroups}
    keep = newest(list(leaves.values()), config.sync_report_ad_limit)
    if keep is None:
        return Scope(groups, {})
    truncated = [
        replace(
            g,
            adgroups=[a for a in g.adgroups if a.adgroup_id in keep],
            ads=None if g.ads is None else [a for a in g.ads if a.adgroup_id in keep],
        )
        for g in groups
    ]
    assert config.sync_report_ad_limit is not None
    return Scope(
        [g for g in truncated if g.adgroups],
        {THROTTLE_HEADER: throttle_text(config.sync_report_ad_limit)},
    )


def report_page(
    query: ReportQuery, dataset: Dataset, config: SimConfig
) -> tuple[dict[str, Any], dict[str, str]]:
    """One page of the report (and response headers), generated from row indexes."""
    scope = report_scope(query, dataset, config)
    if breakdowns.needs_breakdown_page(query):
        return breakdowns.breakdown_page(query, dataset, config, scope)
    groups = scope.groups
    days = dataset.days_with_data(query.advertiser_id, query.start, query.end)
    if not days:
        total = 0
    elif query.daily:
        total = len(groups) * len(days)
    else:
        total = len(groups)
    first = (query.page - 1) * query.page_size
    rows = []
    for index in range(first, min(first + query.page_size, total)):
        if query.daily:
            group, row_days = groups[index // len(days)], [days[index % len(days)]]
        else:
            group, row_days = groups[index], days
        totals = _totals(dataset, group, row_days)
        rows.append(_row(query, group, row_days, totals, config.real_value_shapes))
    data: dict[str, Any] = {
        "list": rows,
        "page_info": {
            "page": query.page,
            "page_size": query.page_size,
            "total_number": total,
            "total_page": -(-total // query.page_size),
        },
    }
    if query.total_metrics:
        if query.level == LEVEL_AD:
            every = dataset.aggregate_ads([a for group in groups for a in group.ads or []], days)
        else:
            every = dataset.aggregate([g for group in groups for g in group.adgroups], days)
        data["total_metrics"] = {
            name: every.metric(name) for name in query.metrics if name in METRICS
        }
    return data, scope.headers


def _totals(dataset: Dataset, group: ReportGroup, days: list[date]) -> Totals:
    if group.ads is not None:
        return dataset.aggregate_ads(group.ads, days)
    return dataset.aggregate(group.adgroups, days)


def _row(
    query: ReportQuery, group: ReportGroup, row_days: list[date], totals: Totals, shapes: bool
) -> dict[str, Any]:
    dimensions = {}
    for name in query.dimensions:
        if name == DAY:
            dimensions[name] = f"{row_days[0].isoformat()} 00:00:00"
        else:
            dimensions[name] = group.dimensions[name]
    metrics = {name: totals.metric(name) for name in query.metrics if name not in group.attributes}
    if shapes:
        key = f"{'/'.join(group.dimensions.values())}:{row_days[0].isoformat()}:{len(row_days)}"
        shaped = shape_metrics(metrics, key)
    else:
        shaped = dict(metrics)
    return {
        "dimensions": dimensions,
        "metrics": {
            name: group.attributes[name] if name in group.attributes else shaped[name]
            for name in query.metrics
        },
    }
