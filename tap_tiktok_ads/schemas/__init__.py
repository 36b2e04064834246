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

#: ``ad_performance``: the campaign metrics plus the rest of the video funnel and engagement.
AD_REPORT_METRICS: dict[str, str] = {
    **CAMPAIGN_REPORT_METRICS,
    "video_views_p25": INTEGER,
    "video_views_p50": INTEGER,
    "video_views_p75": INTEGER,
    "video_views_p100": INTEGER,
    "average_video_play": NUMBER,
    "likes": INTEGER,
    "comments": INTEGER,
    "shares": INTEGER,
    "follows": INTEGER,
    "profile_visits": INTEGER,
}

#: ``advertiser_performance``: the campaign metrics plus the spend split into cash and ad
#: credit, which TikTok serves at the advertiser level only (40002 at any other level).
ADVERTISER_REPORT_METRICS: dict[str, str] = {
    **CAMPAIGN_REPORT_METRICS,
    "cash_spend": NUMBER,
    "voucher_spend": NUMBER,
}

_METRIC_DESCRIPTIONS = {
    "ctr": "Click-through rate in percent, as TikTok reports it.",
    "conversion_rate": "Conversion rate in percent, as TikTok reports it.",
    "reach": "Unique users reached that day; not additive across days or objects.",
    "frequency": "Average impressions per reached user.",
    "video_play_actions": "Video views (Ads Manager 'Video views').",
    "video_watched_6s": "6-second video views.",
    "video_watched_2s": "2-second video views.",
    "video_views_p25": "Views that reached 25% of the video.",
    "video_views_p50": "Views that reached 50% of the video.",
    "video_views_p75": "Views that reached 75% of the video.",
    "video_views_p100": "Views that reached the end of the video.",
    "average_video_play": "Average play time per video view, in seconds.",
    "profile_visits": "Visits to the profile from the ad.",
    "cash_spend": "Spend paid with cash (advertiser level only).",
    "voucher_spend": "Spend paid with vouchers, i.e. ad credit (advertiser level only).",
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

ADS = th.PropertiesList(
    ADVERTISER_ID,
    _string("ad_id", "Ad id.", required=True),
    _string("adgroup_id", "Ad group the ad belongs to."),
    _string("campaign_id", "Campaign the ad belongs to."),
    _string("ad_name", "Ad name."),
    _string("ad_text", "Ad text shown with the creative."),
    _string("call_to_action", "Call-to-action button, e.g. LEARN_MORE, SHOP_NOW."),
    _string("video_id", "Video creative id (video ads)."),
    th.Property(
        "image_ids",
        th.ArrayType(th.StringType()),
        description="Image creative ids (image and carousel ads).",
    ),
    _string("landing_page_url", "Landing page URL."),
    _string("display_name", "Name shown as the ad's author."),
    _string("identity_id", "Identity (TikTok account or custom user) the ad runs as."),
    _string("identity_type", "CUSTOMIZED_USER, AUTH_CODE, TT_USER or BC_AUTH_TT."),
    _string("ad_format", "Creative format, e.g. SINGLE_VIDEO, CAROUSEL_ADS."),
    _string("operation_status", "ENABLE or DISABLE, as set by the user."),
    _string("secondary_status", "Effective status, including deleted (AD_STATUS_DELETE)."),
    _timestamp("create_time", "Creation time (UTC)."),
    _timestamp("modify_time", "Last modification time (UTC); the stream's bookmark."),
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

AD_PERFORMANCE = th.PropertiesList(
    ADVERTISER_ID,
    _string("ad_id", "Ad id.", required=True),
    STAT_DATE,
    _string("campaign_id", "Campaign the ad belongs to."),
    _string("adgroup_id", "Ad group the ad belongs to."),
    _string("ad_name", "Ad name at report time."),
    _string("ad_text", "Ad text at report time."),
    *_metric_properties(AD_REPORT_METRICS),
).to_dict()

ADVERTISER_PERFORMANCE = th.PropertiesList(
    ADVERTISER_ID,
    STAT_DATE,
    _string("advertiser_name", "Advertiser name at report time."),
    *_metric_properties(ADVERTISER_REPORT_METRICS),
).to_dict()
