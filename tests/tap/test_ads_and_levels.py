"""The ads, ad_performance and advertiser_performance streams over HTTP against the simulator."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest

from tap_tiktok_ads.streams import default_stream_names
from tap_tiktok_ads.tap import TapTikTokAds
from tests.tap.fake_api import bookmarks, run_tap
from tests.tap.simulated import SIM_TODAY as END
from tests.tap.simulated import fast_simulator, tap_config
from tiktok_sim.dataset import LEVEL_AD, LEVEL_ADGROUP, LEVEL_ADVERTISER

START = date(2026, 11, 1)
REPORT = "/report/integrated/get/"
AD_GET = "/ad/get/"
NEW_STREAMS = ("ads", "ad_performance", "advertiser_performance")


@pytest.fixture(scope="module")
def sim():
    with fast_simulator(seed=11, advertisers=2, campaigns=3, adgroups=8, days=30) as simulator:
        yield simulator


def config_for(sim, **overrides):
    return tap_config(sim, START, **overrides)


def test_new_streams_are_not_selected_by_default():
    assert not set(NEW_STREAMS) & set(default_stream_names())
    tap = TapTikTokAds(config={"access_token": "x", "advertiser_ids": ["1"]}, validate_config=False)
    for name in NEW_STREAMS:
        assert not tap.streams[name].selected


def test_ads_lists_every_ad_with_deleted_ones_and_creative_fields(sim):
    sim.stats.reset()
    result = run_tap(config_for(sim), streams=["ads"])
    emitted = result.records["ads"]
    every = [ad for a in sim.dataset.advertiser_ids for ad in sim.dataset.ads[a]]
    assert sorted(r["ad_id"] for r in emitted) == sorted(ad.ad_id for ad in every)
    deleted = {ad.ad_id for ad in every if ad.deleted}
    assert deleted
    assert {r["ad_id"] for r in emitted if r["secondary_status"] == "AD_STATUS_DELETE"} == deleted
    by_id = {ad.ad_id: ad for ad in every}
    for record in emitted:
        ad = by_id[record["ad_id"]]
        assert record["ad_name"] == ad.ad_name
        assert record["ad_text"] == ad.ad_text
        assert record["call_to_action"] == ad.call_to_action
        assert record["video_id"] == ad.video_id
        assert record["image_ids"] == list(ad.image_ids)
        assert record["landing_page_url"] == ad.landing_page_url
        assert record["identity_id"] == ad.identity_id
        assert record["adgroup_id"] == ad.adgroup_id
        assert record["modify_time"].endswith("+00:00")
    # One listing per advertiser (one page at this size), deleted included in it.
    logged = sim.stats.requests(endpoint=AD_GET)
    assert len(logged) == 2
    assert all('"STATUS_ALL"' in entry.params["filtering"] for entry in logged)


def test_ads_emits_only_ads_modified_since_the_bookmark(sim):
    first = run_tap(config_for(sim), streams=["ads"])
    marks = bookmarks(first.final_state, "ads")
    for advertiser_id in sim.dataset.advertiser_ids:
        newest = max(
            r["modify_time"] for r in first.records["ads"] if r["advertiser_id"] == advertiser_id
        )
        assert marks[advertiser_id] == newest
    sim.stats.reset()
    second = run_tap(config_for(sim), state=first.final_state, streams=["ads"])
    # Nothing changed: only the ads at the bookmark itself come again (the bound is inclusive).
    again = second.records.get("ads", [])
    assert {r["modify_time"] for r in again} <= set(marks.values())
    assert len(again) < len(first.records["ads"])
    assert sim.stats.count(endpoint=AD_GET) == 2


def _sums(records, key_fields, metrics):
    sums = defaultdict(lambda: defaultdict(Decimal))
    for record in records:
        key = tuple(record[name] for name in key_fields)
        for name in metrics:
            sums[key][name] += Decimal(str(record[name]))
    return sums


def test_ad_performance_adds_up_to_ad_group_performance(sim, pinned_today):
    sim.stats.reset()
    result = run_tap(config_for(sim), streams=["ad_performance", "ad_group_performance"])
    ad_rows, group_rows = result.records["ad_performance"], result.records["ad_group_performance"]
    for advertiser_id in sim.dataset.advertiser_ids:
        expected_rows = sim.dataset.report_row_count(LEVEL_AD, advertiser_id, START, END)
        assert len([r for r in ad_rows if r["advertiser_id"] == advertiser_id]) == expected_rows
        totals = sim.dataset.report_totals(LEVEL_AD, advertiser_id, START, END)
        mine = [r for r in ad_rows if r["advertiser_id"] == advertiser_id]
        assert sum(Decimal(str(r["spend"])) for r in mine) == totals["spend"]
        for name in ("video_views_p100", "likes", "profile_visits", "video_watched_2s"):
            assert sum(r[name] for r in mine) == totals[name]
    additive = ("spend", "impressions", "clicks", "conversion")
    by_ad_group = _sums(ad_rows, ("adgroup_id", "stat_date"), additive)
    by_row = {(r["adgroup_id"], r["stat_date"]): r for r in group_rows}
    assert set(by_ad_group) == set(by_row)
    for key, sums in by_ad_group.items():
        assert {n: Decimal(str(by_row[key][n])) for n in additive} == dict(sums), key
    row = next(r for r in ad_rows if r["impressions"])
    assert row["ad_name"]
    assert row["ad_text"]
    assert isinstance(row["average_video_play"], float)
    # One request per advertiser per stream: the 20 days fit one window and one page.
    assert sim.stats.count(endpoint=REPORT) == 2 * 2
    for entry in sim.stats.requests(endpoint=REPORT):
        if entry.params["data_level"] == LEVEL_AD:
            assert '"ad_status"' in entry.params["filtering"]


def test_advertiser_performance_has_cash_and_voucher_spend(sim, pinned_today):
    result = run_tap(config_for(sim), streams=["advertiser_performance"])
    rows = result.records["advertiser_performance"]
    days = (END - START).days + 1
    assert len(rows) == 2 * days
    for advertiser_id in sim.dataset.advertiser_ids:
        mine = [r for r in rows if r["advertiser_id"] == advertiser_id]
        totals = sim.dataset.report_totals(LEVEL_ADVERTISER, advertiser_id, START, END)
        assert sum(Decimal(str(r["spend"])) for r in mine) == totals["spend"]
        assert all(r["advertiser_name"] for r in mine)
        for r in mine:
            cash, voucher = Decimal(str(r["cash_spend"])), Decimal(str(r["voucher_spend"]))
            assert cash + voucher == Decimal(str(r["spend"]))
        # The advertiser's total includes the ad groups of deleted campaigns.
        live_only = sim.dataset.report_totals(
            LEVEL_ADGROUP, advertiser_id, START, END, include_deleted=False
        )
        assert totals["spend"] >= live_only["spend"]
    assert bookmarks(result.final_state, "advertiser_performance") == dict.fromkeys(
        sim.dataset.advertiser_ids, END.isoformat()
    )


def test_advertiser_performance_rereads_only_the_lookback(sim, pinned_today):
    first = run_tap(config_for(sim), streams=["advertiser_performance"])
    sim.stats.reset()
    second = run_tap(
        config_for(sim, lookback_days=3),
        state=first.final_state,
        streams=["advertiser_performance"],
    )
    assert sim.stats.count(endpoint=REPORT) == 2
    assert {r["stat_date"] for r in second.records["advertiser_performance"]} == {
        "2026-11-17",
        "2026-11-18",
        "2026-11-19",
        "2026-11-20",
    }


def test_truncated_advertiser_report_stops_with_one_clear_line(sim, pinned_today):
    sim.config.set_switches({"sync_report_ad_limit": 2})
    try:
        with pytest.raises(Exception, match="cannot be split by campaign") as failure:
            run_tap(
                config_for(sim, advertiser_ids=[sim.dataset.advertiser_ids[0]]),
                streams=["advertiser_performance"],
            )
    finally:
        sim.config.set_switches({"sync_report_ad_limit": 20_000})
    assert "AUCTION_ADVERTISER" in str(failure.value)


def test_without_include_deleted_deleted_ads_are_left_out(sim, pinned_today):
    result = run_tap(
        config_for(
            sim,
            include_deleted=False,
            advertiser_ids=[sim.dataset.advertiser_ids[0]],
            start_date="2026-11-20",
        ),
        streams=["ads", "ad_performance"],
    )
    ads = sim.dataset.ads[sim.dataset.advertiser_ids[0]]
    live = {ad.ad_id for ad in ads if not ad.deleted}
    assert live != {ad.ad_id for ad in ads}
    assert {r["ad_id"] for r in result.records["ads"]} == live
    assert {r["ad_id"] for r in result.records["ad_performance"]} == live


def test_truncated_ad_report_is_split_until_complete(sim, pinned_today):
    advertiser_id = sim.dataset.advertiser_ids[0]
    sim.config.set_switches({"sync_report_ad_limit": 2})
    try:
        result = run_tap(
            config_for(sim, advertiser_ids=[advertiser_id], start_date="2026-11-18"),
            streams=["ad_performance"],
        )
    finally:
        sim.config.set_switches({"sync_report_ad_limit": 20_000})
    start = date(2026, 11, 18)
    rows = result.records["ad_performance"]
    assert len(rows) == sim.dataset.report_row_count(LEVEL_AD, advertiser_id, start, END)
    totals = sim.dataset.report_totals(LEVEL_AD, advertiser_id, start, END)
    assert sum(Decimal(str(r["spend"])) for r in rows) == totals["spend"]
    assert sum(r["likes"] for r in rows) == totals["likes"]
