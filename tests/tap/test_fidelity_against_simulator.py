"""The tap over real HTTP against a simulator doing everything TikTok does that the tap must
handle (issue 14): per-app QPS limit, 40067 on large queries, truncated synchronous reports,
hidden TopView and Promote objects, campaign/get's documented deleted filter, real value shapes.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

import pytest

from tests.tap.fake_api import run_tap
from tests.tap.simulated import SIM_TODAY as END
from tiktok_sim import SimConfig, Simulator
from tiktok_sim.dataset import LEVEL_ADGROUP, LEVEL_CAMPAIGN

START = END - timedelta(days=9)
REPORT = "/report/integrated/get/"
ADDITIVE = ("spend", "impressions", "clicks", "conversion")


@pytest.fixture(scope="module")
def strict_sim():
    # Sizes chosen so a 10-day ad group query is too large (40067) but 5 days are not, and
    # every query over the whole account (14 ad groups) is truncated at 10 ad groups.
    config = SimConfig(
        seed=11,
        advertisers=2,
        campaigns=4,
        adgroups=12,
        days=30,
        end_date=END,
        app_qps_limit=10,
        query_size_limit=1500,
        sync_report_ad_limit=10,
    )
    assert config.hide_special_campaigns
    assert config.documented_filters_only
    assert config.real_value_shapes
    with Simulator(config) as simulator:
        yield simulator


def per_day(records, advertiser_id):
    sums: dict[str, dict[str, Decimal | int]] = defaultdict(lambda: dict.fromkeys(ADDITIVE, 0))
    for record in records:
        if record["advertiser_id"] != advertiser_id:
            continue
        day = sums[record["stat_date"]]
        for name in ADDITIVE:
            value = record[name] or 0
            day[name] += Decimal(str(value)) if name == "spend" else value
    return dict(sums)


def truth_per_day(sim, level, advertiser_id):
    result = {}
    for offset in range((END - START).days + 1):
        day = START + timedelta(days=offset)
        totals = sim.dataset.report_totals(level, advertiser_id, day, day, include_deleted=True)
        if sim.dataset.report_row_count(level, advertiser_id, day, day, include_deleted=True):
            result[day.isoformat()] = {name: totals[name] for name in ADDITIVE}
    return result


def test_a_sync_with_every_fidelity_switch_on_matches_the_simulators_truth(
    strict_sim, pinned_today, caplog
):
    sim = strict_sim
    sim.stats.reset()
    with caplog.at_level(logging.WARNING):
        result = run_tap(
            {
                "access_token": sim.config.access_token,
                "api_url": sim.api_url,
                "app_id": sim.config.app_id,
                "app_secret": sim.config.app_secret,
                "start_date": START.isoformat(),
                # under the app's 10 requests a second, with TikTok's strict window in mind
                "max_requests_per_second": 8,
            }
        )
    for advertiser_id in sim.dataset.advertiser_ids:
        for stream, level in (
            ("campaign_performance", LEVEL_CAMPAIGN),
            ("ad_group_performance", LEVEL_ADGROUP),
        ):
            assert per_day(result.records[stream], advertiser_id) == truth_per_day(
                sim, level, advertiser_id
            ), f"{stream} of {advertiser_id}"
        campaigns = sim.dataset.list_campaigns(advertiser_id, include_deleted=True)
        emitted = {
            r["campaign_id"]
            for r in result.records["campaigns"]
            if r["advertiser_id"] == advertiser_id
        }
        assert emitted == {c.campaign_id for c in campaigns}
        assert {c.buying_type for c in campaigns} >= {"AUCTION", "RESERVATION_TOP_VIEW"}
        assert {c.system_origin for c in campaigns} >= {"PROMOTE"}
        assert any(c.deleted for c in campaigns)
        adgroups = sim.dataset.list_adgroups(advertiser_id, include_deleted=True)
        emitted = {
            r["adgroup_id"]
            for r in result.records["ad_groups"]
            if r["advertiser_id"] == advertiser_id
        }
        assert emitted == {g.adgroup_id for g in adgroups}
    # Every report row carries its object's name, from the report itself.
    assert all(r["campaign_name"] for r in result.records["campaign_performance"])
    assert all(r["adgroup_name"] for r in result.records["ad_group_performance"])
    # The limits were really hit, and the tap said what it split.
    assert sim.stats.count(endpoint=REPORT, outcome="40067") > 0
    assert "the query is too large (40067); split into" in caplog.text
    assert "TikTok truncated the result (X-Tt-Ads-Throttle: Number of ad ids" in caplog.text
    assert sim.stats.count(outcome="40002") == 0
