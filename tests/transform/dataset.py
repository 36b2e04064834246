"""A small, deterministic TikTok dataset for transform tests: three data sources (two share
an advertiser), two currencies in one data source, deleted campaigns, "-" metrics, and a
date span covering several 30-day report windows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

FIRST_DAY = dt.date(2024, 1, 1)
DAYS = 75  # three 30-day API windows
SYNC_TIME = dt.datetime(2024, 3, 16, 6, 0, 0)


@dataclass(frozen=True)
class Advertiser:
    advertiser_id: str
    name: str
    currency: str
    campaigns: tuple[str, ...]
    deleted_campaigns: tuple[str, ...] = ()
    no_conversions: bool = False


@dataclass
class Dataset:
    """Data sources (by label) -> advertisers; filled with ids once registered."""

    sources: dict[str, tuple[Advertiser, ...]]
    ids: dict[str, int] = field(default_factory=dict)


SHARED = Advertiser("7000000000000000001", "Shop US", "USD", ("1701", "1702"), ("1702",))
EUROPE = Advertiser("7000000000000000002", "Shop EU", "EUR", ("1801",))
QUIET = Advertiser("7000000000000000003", "Brand only", "USD", ("1901",), no_conversions=True)

DATA_SOURCES: dict[str, tuple[Advertiser, ...]] = {
    "mixed": (SHARED, EUROPE),  # two currencies: flagged, never summed
    "tenant_b": (SHARED,),  # same advertiser as "mixed", another tenant
    "quiet": (QUIET,),  # zero conversions
}


def _metrics(seed: int, day: int, *, no_conversions: bool) -> dict[str, Any]:
    impressions = 1000 + (seed * 37 + day * 91) % 5000
    clicks = 10 + (seed * 13 + day * 7) % 90
    spend = Decimal(50 + (seed * 11 + day * 17) % 400) + Decimal("0.37")
    conversion = 0 if no_conversions else (seed + day) % 6
    unknown = day % 9 == 4  # the API's "-": null in the raw layer
    return {
        "spend": spend,
        "impressions": impressions,
        "clicks": clicks,
        "ctr": round(Decimal(clicks) * 100 / impressions, 2),
        "cpm": round(spend * 1000 / impressions, 2),
        "cpc": round(spend / clicks, 2),
        "conversion": None if unknown else conversion,
        "cost_per_conversion": None if unknown or not conversion else round(spend / conversion, 2),
        "conversion_rate": None if unknown else round(Decimal(conversion) * 100 / clicks, 2),
        "reach": None if unknown else impressions // 2,
    }


def raw_rows(data_source_id: int, advertiser: Advertiser) -> dict[str, list[dict[str, Any]]]:
    """Raw rows per stream for one data source and advertiser."""
    base = {"data_source_id": data_source_id, "advertiser_id": advertiser.advertiser_id}
    rows: dict[str, list[dict[str, Any]]] = {
        "advertiser_info": [
            base
            | {
                "name": advertiser.name,
                "currency": advertiser.currency,
                "timezone": "America/New_York",
                "status": "STATUS_ENABLE",
            }
        ],
        "campaigns": [],
        "ad_groups": [],
        "campaign_performance": [],
        "ad_group_performance": [],
    }
    for campaign_id in advertiser.campaigns:
        deleted = campaign_id in advertiser.deleted_campaigns
        adgroup_id = f"{campaign_id}01"
        rows["campaigns"].append(
            base
            | {
                "campaign_id": campaign_id,
                "campaign_name": f"Campaign {campaign_id}",
                "objective_type": "CONVERSIONS",
                "operation_status": "DISABLE" if deleted else "ENABLE",
                "secondary_status": "CAMPAIGN_STATUS_DELETE"
                if deleted
                else "CAMPAIGN_STATUS_ENABLE",
            }
        )
        rows["ad_groups"].append(
            base
            | {
                "adgroup_id": adgroup_id,
                "campaign_id": campaign_id,
                "adgroup_name": f"Ad group {adgroup_id}",
                "operation_status": "ENABLE",
                "secondary_status": "ADGROUP_STATUS_DELIVERY_OK",
            }
        )
        seed = int(campaign_id) + data_source_id
        for day in range(DAYS):
            metrics = _metrics(seed, day, no_conversions=advertiser.no_conversions)
            stat_date = FIRST_DAY + dt.timedelta(days=day)
            rows["campaign_performance"].append(
                base
                | metrics
                | {
                    "campaign_id": campaign_id,
                    "stat_date": stat_date,
                    "campaign_name": None if day % 5 == 0 else f"Campaign {campaign_id}",
                    "objective_type": "CONVERSIONS",
                    "video_play_actions": 300 + day,
                    "video_watched_2s": 200 + day,
                    "video_watched_6s": 100 + day,
                    "frequency": Decimal("1.10"),
                }
            )
            rows["ad_group_performance"].append(
                base
                | metrics
                | {
                    "adgroup_id": adgroup_id,
                    "campaign_id": campaign_id,
                    "stat_date": stat_date,
                    "adgroup_name": f"Ad group {adgroup_id}",
                }
            )
    return rows
