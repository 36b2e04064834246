"""The reports singer-io's tap-tiktok-ads 1.2.1 and Airbyte's source-tiktok-marketing 4.7.0
offer that have no stream of their own here are one ``custom_reports`` entry each
(docs/connector-comparison.md). Each entry of that table is synced here over HTTP against the
simulator, and its totals equal the simulator's truth, so the table's claims are tested."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from tests.tap.fake_api import SyncResult, run_tap
from tests.tap.simulated import SIM_TODAY as END
from tests.tap.simulated import fast_simulator, pin_today, tap_config
from tiktok_sim import Simulator
from tiktok_sim.dataset import LEVEL_AD, LEVEL_CAMPAIGN

DAYS = 10
START = date(2026, 11, 18)
FIRST_DAY = END - timedelta(days=DAYS - 1)


def custom(name: str, report_type: str, level: str, dimensions: list[str]) -> dict[str, Any]:
    return {
        "name": name,
        "report_type": report_type,
        "data_level": level,
        "dimensions": dimensions,
        "metrics": ["spend", "impressions"],
    }


#: name -> (definition, the level whose totals it must equal, whether it covers the lifetime)
PARITY = {
    # singer-io ad_insights_by_*, Airbyte ads_audience_reports_*_daily
    "ad_audience_by_age_gender": (
        custom(
            "ad_audience_by_age_gender",
            "AUDIENCE",
            "AUCTION_AD",
            ["ad_id", "stat_time_day", "age", "gender"],
        ),
        LEVEL_AD,
        False,
    ),
    "ad_audience_by_country": (
        custom(
            "ad_audience_by_country",
            "AUDIENCE",
            "AUCTION_AD",
            ["ad_id", "stat_time_day", "country_code"],
        ),
        LEVEL_AD,
        False,
    ),
    "ad_audience_by_platform": (
        custom(
            "ad_audience_by_platform",
            "AUDIENCE",
            "AUCTION_AD",
            ["ad_id", "stat_time_day", "platform"],
        ),
        LEVEL_AD,
        False,
    ),
    # Airbyte advertisers_audience_reports_*_daily
    "advertiser_audience_by_age_gender": (
        custom(
            "advertiser_audience_by_age_gender",
            "AUDIENCE",
            "AUCTION_ADVERTISER",
            ["advertiser_id", "stat_time_day", "age", "gender"],
        ),
        LEVEL_CAMPAIGN,
        False,
    ),
    "advertiser_audience_by_country": (
        custom(
            "advertiser_audience_by_country",
            "AUDIENCE",
            "AUCTION_ADVERTISER",
            ["advertiser_id", "stat_time_day", "country_code"],
        ),
        LEVEL_CAMPAIGN,
        False,
    ),
    "advertiser_audience_by_platform": (
        custom(
            "advertiser_audience_by_platform",
            "AUDIENCE",
            "AUCTION_ADVERTISER",
            ["advertiser_id", "stat_time_day", "platform"],
        ),
        LEVEL_CAMPAIGN,
        False,
    ),
    # Airbyte advertisers_reports_hourly, ads_reports_hourly
    "advertiser_performance_hourly": (
        custom(
            "advertiser_performance_hourly",
            "BASIC",
            "AUCTION_ADVERTISER",
            ["advertiser_id", "stat_time_hour"],
        ),
        LEVEL_CAMPAIGN,
        False,
    ),
    "ad_performance_hourly": (
        custom("ad_performance_hourly", "BASIC", "AUCTION_AD", ["ad_id", "stat_time_hour"]),
        LEVEL_AD,
        False,
    ),
    # Airbyte advertisers_reports_lifetime, ads_reports_lifetime,
    # advertisers_audience_reports_lifetime
    "advertiser_performance_lifetime": (
        custom("advertiser_performance_lifetime", "BASIC", "AUCTION_ADVERTISER", ["advertiser_id"]),
        LEVEL_CAMPAIGN,
        True,
    ),
    "ad_performance_lifetime": (
        custom("ad_performance_lifetime", "BASIC", "AUCTION_AD", ["ad_id"]),
        LEVEL_AD,
        True,
    ),
    "advertiser_audience_lifetime_by_age_gender": (
        custom(
            "advertiser_audience_lifetime_by_age_gender",
            "AUDIENCE",
            "AUCTION_ADVERTISER",
            ["advertiser_id", "age", "gender"],
        ),
        LEVEL_CAMPAIGN,
        True,
    ),
}


@pytest.fixture(scope="module")
def synced() -> Any:
    simulated = fast_simulator(seed=5, advertisers=2, campaigns=2, adgroups=4, days=DAYS)
    with pytest.MonkeyPatch.context() as patch, simulated as sim:
        pin_today(patch)
        result = run_tap(
            tap_config(
                sim,
                START,
                advertiser_ids=sim.dataset.advertiser_ids,
                custom_reports=[definition for definition, _, _ in PARITY.values()],
            ),
            streams=list(PARITY),
        )
        yield sim, result


@pytest.mark.parametrize("name", list(PARITY))
def test_each_report_other_connectors_offer_is_one_custom_report(
    name: str, synced: tuple[Simulator, SyncResult]
) -> None:
    sim, result = synced
    _, level, lifetime = PARITY[name]
    rows = result.records.get(name, [])
    assert rows, f"{name}: no rows"
    start = FIRST_DAY if lifetime else START
    for advertiser_id in sim.dataset.advertiser_ids:
        mine = [r for r in rows if r["advertiser_id"] == advertiser_id]
        truth = sim.dataset.report_totals(level, advertiser_id, start, END, include_deleted=True)
        assert sum((Decimal(str(r["spend"])) for r in mine), Decimal("0")) == truth["spend"]
        assert sum(r["impressions"] for r in mine) == truth["impressions"]
