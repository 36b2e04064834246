"""Audience streams, hourly and lifetime variants and custom reports, over real HTTP against
the simulator: totals, keys, request counts, bookmarks, and a bad custom report stopped
before any request."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from datetime import date
from decimal import Decimal

import pytest

from tests.tap.fake_api import bookmarks, run_tap
from tests.tap.simulated import SIM_TODAY as END
from tests.tap.simulated import fast_simulator, tap_config
from tiktok_sim.dataset import LEVEL_ADGROUP, LEVEL_CAMPAIGN

pytestmark = pytest.mark.usefixtures("pinned_today")

START = date(2026, 11, 18)
REPORT = "/report/integrated/get/"
LANGUAGE = {
    "name": "campaign_by_language",
    "report_type": "AUDIENCE",
    "data_level": "AUCTION_CAMPAIGN",
    "dimensions": ["campaign_id", "stat_time_day", "language"],
    "metrics": ["campaign_name", "spend", "clicks"],
}


@pytest.fixture(scope="module")
def sim():
    with fast_simulator(seed=11, advertisers=2, campaigns=3, adgroups=6, days=10) as simulator:
        yield simulator


def config_for(sim, **overrides):
    return tap_config(sim, START, **overrides)


def sums(records, advertiser_id):
    rows = [r for r in records if r["advertiser_id"] == advertiser_id]
    return (
        sum((Decimal(str(r["spend"])) for r in rows), Decimal("0")),
        sum(r["impressions"] for r in rows),
        sum(r["clicks"] for r in rows),
    )


def expected_sums(sim, level, advertiser_id, start=START, end=END):
    totals = sim.dataset.report_totals(level, advertiser_id, start, end, include_deleted=True)
    return totals["spend"], totals["impressions"], totals["clicks"]


def assert_unique_keys(result, stream):
    tap_keys = {
        "campaign_audience_by_age_gender": ("campaign_id", "stat_date", "age", "gender"),
        "ad_group_audience_by_country": ("adgroup_id", "stat_date", "country_code"),
        "campaign_performance_hourly": ("campaign_id", "stat_date", "stat_hour"),
    }[stream]
    keys = Counter((r["advertiser_id"], *(r[k] for k in tap_keys)) for r in result.records[stream])
    assert keys
    assert max(keys.values()) == 1


def test_audience_streams_add_up_to_the_daily_reports(sim):
    sim.stats.reset()
    streams = ["campaign_audience_by_age_gender", "ad_group_audience_by_country"]
    result = run_tap(config_for(sim), streams=streams)
    for advertiser_id in sim.dataset.advertiser_ids:
        assert sums(result.records[streams[0]], advertiser_id) == expected_sums(
            sim, LEVEL_CAMPAIGN, advertiser_id
        )
        assert sums(result.records[streams[1]], advertiser_id) == expected_sums(
            sim, LEVEL_ADGROUP, advertiser_id
        )
    for stream in streams:
        assert_unique_keys(result, stream)
    ages = {r["age"] for r in result.records[streams[0]]}
    assert "AGE_25_34" in ages
    assert {r["gender"] for r in result.records[streams[0]]} >= {"MALE", "FEMALE"}
    # One request per advertiser and stream: 3 days fit one 30-day window.
    requests = sim.stats.requests(endpoint=REPORT)
    assert len(requests) == 2 * 2
    assert {r.params["report_type"] for r in requests} == {"AUDIENCE"}
    assert all("reach" not in r.params["metrics"] for r in requests)
    assert bookmarks(result.final_state, streams[0]) == dict.fromkeys(
        sim.dataset.advertiser_ids, END.isoformat()
    )


def test_hourly_variant_reads_one_day_per_request_and_adds_up_to_the_day(sim):
    sim.stats.reset()
    stream = "campaign_performance_hourly"
    result = run_tap(config_for(sim, hourly_reports=True), streams=[stream])
    for advertiser_id in sim.dataset.advertiser_ids:
        assert sums(result.records[stream], advertiser_id) == expected_sums(
            sim, LEVEL_CAMPAIGN, advertiser_id
        )
    assert_unique_keys(result, stream)
    assert {r["stat_hour"] for r in result.records[stream]} == set(range(24))
    requests = sim.stats.requests(endpoint=REPORT)
    assert len(requests) == 2 * 3  # 3 days, one request each, per advertiser
    assert all(r.params["start_date"] == r.params["end_date"] for r in requests)
    assert bookmarks(result.final_state, stream) == dict.fromkeys(
        sim.dataset.advertiser_ids, END.isoformat()
    )
    # Off by default: the stream does not exist without the setting.
    assert stream not in run_tap(config_for(sim), streams=[]).records


def test_lifetime_variant_is_one_query_lifetime_request_without_a_bookmark(sim):
    sim.stats.reset()
    stream = "ad_group_performance_lifetime"
    result = run_tap(config_for(sim, lifetime_reports=True), streams=[stream])
    for advertiser in sim.dataset.advertisers:
        assert sums(result.records[stream], advertiser.advertiser_id) == expected_sums(
            sim, LEVEL_ADGROUP, advertiser.advertiser_id, advertiser.first_day, END
        )
    requests = sim.stats.requests(endpoint=REPORT)
    assert len(requests) == 2
    assert all(r.params.get("query_lifetime") == "true" for r in requests)
    assert all("start_date" not in r.params for r in requests)
    assert "stat_date" not in result.records[stream][0]
    assert set(bookmarks(result.final_state, stream).values()) == {None}


def test_a_custom_report_with_filters_syncs_typed_rows(sim):
    advertiser_id = sim.dataset.advertiser_ids[0]
    campaign = sim.dataset.campaigns[advertiser_id][0]
    custom = {
        **LANGUAGE,
        "filters": [{"field_name": "campaign_ids", "filter_value": [campaign.campaign_id]}],
    }
    sim.stats.reset()
    result = run_tap(
        config_for(sim, advertiser_ids=[advertiser_id], custom_reports=[custom]),
        streams=["campaign_by_language"],
    )
    rows = result.records["campaign_by_language"]
    assert {r["campaign_id"] for r in rows} == {campaign.campaign_id}
    assert len(rows) == 3 * 6  # 3 days x 6 languages
    assert {r["campaign_name"] for r in rows} == {campaign.campaign_name}
    assert all(isinstance(r["clicks"], int) for r in rows)
    spend = sum((Decimal(str(r["spend"])) for r in rows), Decimal("0"))
    leaves = sim.dataset.adgroups_of(campaign)
    days = sim.dataset.days_with_data(advertiser_id, START, END)
    assert spend == Decimal(sim.dataset.aggregate(leaves, days).metric("spend"))


def test_a_bad_custom_report_stops_the_run_before_any_request(sim, tmp_path):
    bad = {**LANGUAGE, "metrics": ["spend", "reach"]}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config_for(sim, custom_reports=[LANGUAGE, bad])))
    sim.stats.reset()
    result = subprocess.run(
        [sys.executable, "-m", "tap_tiktok_ads", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if "custom_reports" in line]
    assert errors, result.stderr
    assert "custom_reports[1] (campaign_by_language)" in errors[0]
    assert "metric reach is not available in AUDIENCE reports" in errors[0]
    assert sim.stats.count() == 0
    assert result.stdout == ""
