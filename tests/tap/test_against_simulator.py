"""The tap over real HTTP against the simulator: totals, deleted objects, request counts."""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal

import pytest

from tests.tap.fake_api import bookmarks, run_tap
from tests.tap.simulated import SIM_TODAY as END
from tests.tap.simulated import fast_simulator, tap_config
from tiktok_sim.dataset import LEVEL_ADGROUP, LEVEL_CAMPAIGN

REPORT = "/report/integrated/get/"


@pytest.fixture(scope="module")
def sim():
    with fast_simulator(seed=7, advertisers=2, campaigns=4, adgroups=12, days=90) as simulator:
        yield simulator


def config_for(sim, **overrides):
    return tap_config(sim, "2026-08-23", **overrides)


def totals(records, advertiser_id):
    rows = [r for r in records if r["advertiser_id"] == advertiser_id]
    return {
        "rows": len(rows),
        "spend": sum((Decimal(str(r["spend"])) for r in rows), Decimal("0")),
        "impressions": sum(r["impressions"] for r in rows),
        "clicks": sum(r["clicks"] for r in rows),
        "conversion": sum(r["conversion"] for r in rows),
    }


def expected(sim, level, advertiser_id, start):
    data = sim.dataset
    sums = data.report_totals(level, advertiser_id, start, END, include_deleted=True)
    return {
        "rows": data.report_row_count(level, advertiser_id, start, END, include_deleted=True),
        "spend": sums["spend"],
        "impressions": sums["impressions"],
        "clicks": sums["clicks"],
        "conversion": sums["conversion"],
    }


def test_multi_advertiser_backfill_matches_the_api_and_rereads_only_lookback(sim, pinned_today):
    # Advertisers are discovered (no advertiser_ids), so both are synced.
    sim.stats.reset()
    first = run_tap(config_for(sim))
    start = date(2026, 8, 23)
    advertiser_ids = sim.dataset.advertiser_ids
    assert sorted(r["advertiser_id"] for r in first.records["advertiser_info"]) == sorted(
        advertiser_ids
    )
    for advertiser_id in advertiser_ids:
        assert totals(first.records["campaign_performance"], advertiser_id) == expected(
            sim, LEVEL_CAMPAIGN, advertiser_id, start
        )
        assert totals(first.records["ad_group_performance"], advertiser_id) == expected(
            sim, LEVEL_ADGROUP, advertiser_id, start
        )
        campaigns = sim.dataset.list_campaigns(advertiser_id, include_deleted=True)
        emitted = [r for r in first.records["campaigns"] if r["advertiser_id"] == advertiser_id]
        assert len(emitted) == len(campaigns)
        assert any(c.deleted for c in campaigns), "the seed should include a deleted campaign"
    # 90 days = 3 windows per advertiser per report stream, one page each at this size.
    assert sim.stats.count(endpoint=REPORT) == 2 * 2 * 3

    sim.stats.reset()
    second = run_tap(config_for(sim, lookback_days=7), state=first.final_state)
    # Only the lookback window: one request per advertiser per report stream.
    assert sim.stats.count(endpoint=REPORT) == 2 * 2
    for log_entry in sim.stats.requests(endpoint=REPORT):
        assert (log_entry.params["start_date"], log_entry.params["end_date"]) == (
            "2026-11-13",
            "2026-11-20",
        )
    assert bookmarks(second.final_state, "campaign_performance") == dict.fromkeys(
        advertiser_ids, "2026-11-20"
    )
    assert len(second.records["campaign_performance"]) == sum(
        sim.dataset.report_row_count(LEVEL_CAMPAIGN, a, date(2026, 11, 13), END)
        for a in advertiser_ids
    )


def test_pages_are_fetched_in_full_at_small_page_sizes(sim, pinned_today):
    sim.stats.reset()
    advertiser_id = sim.dataset.advertiser_ids[0]
    result = run_tap(
        config_for(sim, advertiser_ids=[advertiser_id], start_date="2026-11-01", page_size=7),
        streams=["ad_group_performance"],
    )
    start = date(2026, 11, 1)
    assert totals(result.records["ad_group_performance"], advertiser_id) == expected(
        sim, LEVEL_ADGROUP, advertiser_id, start
    )
    rows = sim.dataset.report_row_count(LEVEL_ADGROUP, advertiser_id, start, END)
    assert sim.stats.count(endpoint=REPORT) == math.ceil(rows / 7)
