"""The value shapes real responses carry (``real_value_shapes``), chosen per row or object.

Recorded TikTok responses differ from the plain "every metric a 2-decimal string, '-' when not
available" form: zero-conversion costs come as "0.000" or "0.00" more often than "-"; decimals
vary from 2 to 4 places; some unavailable metrics are JSON null; some counts are raw JSON
numbers; statuses take many more values; ``secondary_status`` is sometimes missing. Every
choice is a deterministic function of the row or object, and no number changes value (only
zeros are appended), so sums stay exact.
"""

from __future__ import annotations

from typing import Any

from tiktok_sim.dataset import Ad, AdGroup, Campaign
from tiktok_sim.metrics import ADDITIVE_METRICS, UNAVAILABLE, uniforms

ZERO_CONVERSION_COSTS = frozenset({"cost_per_conversion", "cost_per_result"})
COUNT_METRICS = frozenset(ADDITIVE_METRICS) - {"spend"}
DECIMAL_METRICS = frozenset(
    {
        "spend",
        "ctr",
        "cpm",
        "cpc",
        "conversion_rate",
        "frequency",
        "average_video_play",
        "cost_per_conversion",
        "cost_per_result",
    }
)
# Delivering objects: mostly the common status, now and then one of the other real ones.
CAMPAIGN_ACTIVE = ("CAMPAIGN_STATUS_ENABLE",) * 4 + ("CAMPAIGN_STATUS_BUDGET_EXCEED",)
CAMPAIGN_PAUSED = ("CAMPAIGN_STATUS_DISABLE",) * 3 + ("CAMPAIGN_STATUS_ADVERTISER_AUDIT_DENY",)
ADGROUP_ACTIVE = ("ADGROUP_STATUS_DELIVERY_OK",) * 4 + (
    "ADGROUP_STATUS_BUDGET_EXCEED",
    "ADGROUP_STATUS_NOT_START",
    "ADGROUP_STATUS_TIME_DONE",
    "ADGROUP_STATUS_AUDIT",
    "ADGROUP_STATUS_REAUDIT",
    "ADGROUP_STATUS_BALANCE_EXCEED",
    "ADGROUP_STATUS_CAMPAIGN_EXCEED",
)
MISSING_SECONDARY_SHARE = 0.15


def shape_metrics(metrics: dict[str, str], row_key: str) -> dict[str, Any]:
    """Reshape one row's metric texts (attributes untouched: only names in the shaped sets)."""
    u = uniforms(f"shape:{row_key}")
    decimals = 2 + int(u[0] * 3)  # 2, 3 or 4
    raw_counts = u[1] < 0.25  # shares of rows, tuned to look like the recordings
    null_unavailable = u[2] < 0.3
    zero_cost = "0.000" if u[3] < 0.45 else "0.00" if u[3] < 0.8 else UNAVAILABLE
    shaped: dict[str, Any] = {}
    for name, value in metrics.items():
        if name in ZERO_CONVERSION_COSTS and value == UNAVAILABLE:
            shaped[name] = zero_cost
        elif value == UNAVAILABLE and name in DECIMAL_METRICS | COUNT_METRICS | {"reach"}:
            shaped[name] = None if null_unavailable else value
        elif name in COUNT_METRICS and raw_counts:
            shaped[name] = int(value)
        elif name in DECIMAL_METRICS and decimals > 2:
            shaped[name] = value + "0" * (decimals - 2)
        else:
            shaped[name] = value
    return shaped


def _pick(options: tuple[str, ...], key: str) -> str:
    return options[int(uniforms(key)[0] * len(options))]


def secondary_left_out(object_id: str, deleted: bool, shapes: bool) -> bool:
    """Whether a record goes without ``secondary_status`` (never a deleted one: the platform
    learns deletions from it)."""
    return shapes and not deleted and uniforms(f"missing:{object_id}")[0] < MISSING_SECONDARY_SHARE


def primary_status(deleted: bool, enabled: bool, secondary: str) -> str:
    """The primary status (filter value) an object's secondary status falls under."""
    if deleted:
        return "STATUS_DELETE"
    if not enabled or secondary.endswith("_DISABLE"):
        return "STATUS_DISABLE"
    if secondary.endswith(("_ENABLE", "_DELIVERY_OK")):
        return "STATUS_DELIVERY_OK"
    if secondary.endswith("_TIME_DONE"):
        return "STATUS_TIME_DONE"
    return "STATUS_NOT_DELIVERY"


def campaign_status(campaign: Campaign, shapes: bool) -> str:
    """secondary_status of a campaign."""
    if campaign.deleted:
        return "CAMPAIGN_STATUS_DELETE"
    if not shapes:
        return "CAMPAIGN_STATUS_ENABLE" if campaign.enabled else "CAMPAIGN_STATUS_DISABLE"
    options = CAMPAIGN_ACTIVE if campaign.enabled else CAMPAIGN_PAUSED
    return _pick(options, f"status:{campaign.campaign_id}")


def adgroup_status(ad_group: AdGroup, campaign: Campaign | None, shapes: bool) -> str:
    """secondary_status of an ad group."""
    if ad_group.deleted:
        if shapes and campaign is not None and campaign.deleted:
            return "ADGROUP_STATUS_CAMPAIGN_DELETE"
        return "ADGROUP_STATUS_DELETE"
    if campaign is not None and not campaign.enabled:
        return "ADGROUP_STATUS_CAMPAIGN_DISABLE"
    if not ad_group.enabled:
        return "ADGROUP_STATUS_DISABLE"
    return _pick(ADGROUP_ACTIVE, f"status:{ad_group.adgroup_id}") if shapes else ADGROUP_ACTIVE[0]


def ad_status(ad: Ad, ad_group: AdGroup, campaign: Campaign) -> str:
    """secondary_status of an ad: its own, else what its ad group or campaign imposes."""
    if ad.deleted:
        return "AD_STATUS_DELETE"
    if not campaign.enabled:
        return "AD_STATUS_CAMPAIGN_DISABLE"
    if not ad_group.enabled:
        return "AD_STATUS_ADGROUP_DISABLE"
    return "AD_STATUS_DELIVERY_OK" if ad.enabled else "AD_STATUS_DISABLE"
