"""Stream schemas, built from one list of fields per stream.

Report metrics carry their type here, and the same lists decide what is requested from the
API, so a schema and a request can never disagree.
"""

from __future__ import annotations

from typing import Any

from singer_sdk import typing as th

INTEGER = "integer"
NUMBER = "number"

#: Metric name (as the API spells it; ``conversion`` is singular) -> JSON type.
CAMPAIGN_REPORT_METRICS: dict[str, str] = {
    "spend": NUMBER,
    "impressions": INTEGER,
    "clicks": INTEGER,
    "ctr": NUMBER,
    "cpm": NUMBER,
    "cpc": NUMBER,
    "conversion": INTEGER,
    "cost_per_conversion": NUMBER,
    "conversion_rate": NUMBER,
    "video_play_actions": INTEGER,
    "video_watched_2s": INTEGER,
    "video_watched_6s": INTEGER,
    "reach": INTEGER,
    "frequency": NUMBER,
}

AD_GROUP_REPORT_METRICS: dict[str, str] = {
    name: CAMPAIGN_REPORT_METRICS[name]
    for name in (
        "spend",
        "impressions",
        "clicks",
        "ctr",
        "cpm",
        "cpc",
        "conversion",
        "cost_per_conversion",
        "conversion_rate",
        "reach",
    )
}

_METRIC_DESCRIPTIONS = {
    "ctr": "Click-through rate in percent, as TikTok reports it.",
    "conversion_rate": "Conversion rate in percent, as TikTok reports it.",
    "reach": "Unique users reached that day; not additive across days or objects.",
    "frequency": "Average impressions per reached user.",
    "video_play_actions": "Video views (Ads Manager 'Video views').",
    "video_watched_6s": "6-second video views.",
}


def _metric_properties(metrics: dict[str, str]) -> list[th.Property[Any]]:
    return [
        th.Property(
            name,
            th.IntegerType() if kind == INTEGER else th.NumberType(),
            description=_METRIC_DESCRIPTIONS.get(name, "Null where the API reports '-'."),
        )
        for name, kind in metrics.items()
    ]


def _string(name: str, description: str, *, required: bool = False) -> th.Property[Any]:
    return th.Property(name, th.StringType(), required=required, description=description)


def _timestamp(name: str, description: str) -> th.Property[Any]:
    return th.Property(name, th.DateTimeType(), description=description)


ADVERTISER_ID = _string("advertiser_id", "TikTok advertiser id.", required=True)
STAT_DATE = th.Property(
    "stat_date",
    th.DateType(),
    required=True,
    description="Day of the metrics, in the advertiser's time zone.",
)

ADVERTISER_INFO = th.PropertiesList(
    ADVERTISER_ID,
    _string("name", "Advertiser name."),
    _string("currency", "Account currency (ISO 4217); never sum across currencies."),
    _string("timezone", "IANA time zone of the account; report days are in this zone."),
    _string("display_timezone", "Time zone name shown in Ads Manager."),
    _string("status", "Advertiser status."),
    _timestamp("create_time", "When the advertiser was created (UTC)."),
).to_dict()

_ENTITY_COMMON = (
    _string("operation_status", "ENABLE or DISABLE, as set by the user."),
    _string("secondary_status", "Effective status, including deleted (..._STATUS_DELETE)."),
    th.Property("budget", th.NumberType(), description="Budget in the account currency."),
    _string("budget_mode", "BUDGET_MODE_DAY, BUDGET_MODE_TOTAL or BUDGET_MODE_INFINITE."),
    _timestamp("create_time", "Creation time (UTC)."),
    _timestamp("modify_time", "Last modification time (UTC)."),
)

CAMPAIGNS = th.PropertiesList(
    ADVERTISER_ID,
    _string("campaign_id", "Campaign id.", required=True),
    _string("campaign_name", "Campaign name."),
    _string("objective_type", "Campaign objective, e.g. REACH, TRAFFIC, CONVERSIONS."),
    *_ENTITY_COMMON,
).to_dict()

AD_GROUPS = th.PropertiesList(
    ADVERTISER_ID,
    _string("adgroup_id", "Ad group id.", required=True),
    _string("campaign_id", "Campaign the ad group belongs to."),
    _string("adgroup_name", "Ad group name."),
    *_ENTITY_COMMON,
).to_dict()

CAMPAIGN_PERFORMANCE = th.PropertiesList(
    ADVERTISER_ID,
    _string("campaign_id", "Campaign id.", required=True),
    STAT_DATE,
    _string("campaign_name", "Campaign name at report time."),
    _string("objective_type", "Campaign objective."),
    *_metric_properties(CAMPAIGN_REPORT_METRICS),
).to_dict()

AD_GROUP_PERFORMANCE = th.PropertiesList(
    ADVERTISER_ID,
    _string("adgroup_id", "Ad group id.", required=True),
    STAT_DATE,
    _string("campaign_id", "Campaign the ad group belongs to."),
    _string("adgroup_name", "Ad group name at report time."),
    *_metric_properties(AD_GROUP_REPORT_METRICS),
).to_dict()
