"""Entities in the passes each endpoint documents, and the value shapes real responses carry."""

from __future__ import annotations

from datetime import datetime

import pytest

from tap_tiktok_ads.streams import reports
from tests.tap.fake_api import TOKEN, run_tap

BASE = {"access_token": TOKEN, "advertiser_ids": ["1001"], "max_requests_per_second": 1000}


def test_campaigns_include_topview_promote_and_deleted_in_documented_passes(api):
    api.add_campaign("1001", "auction")
    api.add_campaign("1001", "rf", buying_type="RESERVATION_RF")
    api.add_campaign("1001", "topview", buying_type="RESERVATION_TOP_VIEW")
    api.add_campaign("1001", "promote", origin="PROMOTE")
    api.add_campaign("1001", "deleted", deleted=True)
    api.add_campaign("1001", "topview-deleted", buying_type="RESERVATION_TOP_VIEW", deleted=True)
    result = run_tap({**BASE, "start_date": "2026-03-01"}, streams=["campaigns"])
    assert sorted(r["campaign_id"] for r in result.records["campaigns"]) == [
        "auction",
        "deleted",
        "promote",
        "rf",
        "topview",
        "topview-deleted",
    ]
    filters = [params["filtering"] for kind, params in api.entity_requests]
    # campaign/get documents STATUS_DELETE (deleted only), not STATUS_ALL.
    assert all(f.get("primary_status") in (None, "STATUS_DELETE") for f in filters)
    assert all(f["campaign_system_origins"] == ["TT_ADS_PLATFORM", "PROMOTE"] for f in filters)
    # RESERVATION_TOP_VIEW is asked for alone, at most 100 rows a page.
    topview = [
        p
        for _, p in api.entity_requests
        if "RESERVATION_TOP_VIEW" in p["filtering"]["buying_types"]
    ]
    assert len(topview) == 2
    assert all(p["filtering"]["buying_types"] == ["RESERVATION_TOP_VIEW"] for p in topview)
    assert all(int(p["page_size"]) == 100 for p in topview)
    assert len(api.entity_requests) == 4


def test_ad_groups_use_status_all_and_a_topview_pass(api):
    api.adgroups["1001"].extend(
        [
            {
                "adgroup_id": "a1",
                "_buying_type": "AUCTION",
                "_origin": "TT_ADS_PLATFORM",
                "_deleted": False,
            },
            {"adgroup_id": "a2", "_buying_type": "AUCTION", "_origin": "PROMOTE", "_deleted": True},
            {
                "adgroup_id": "a3",
                "_buying_type": "RESERVATION_TOP_VIEW",
                "_origin": "TT_ADS_PLATFORM",
                "_deleted": True,
            },
        ]
    )
    result = run_tap({**BASE, "start_date": "2026-03-01"}, streams=["ad_groups"])
    assert sorted(r["adgroup_id"] for r in result.records["ad_groups"]) == ["a1", "a2", "a3"]
    assert [p["filtering"]["primary_status"] for _, p in api.entity_requests] == ["STATUS_ALL"] * 2


def test_without_include_deleted_no_deleted_pass(api):
    api.add_campaign("1001", "live")
    api.add_campaign("1001", "gone", deleted=True)
    result = run_tap(
        {**BASE, "start_date": "2026-03-01", "include_deleted": False}, streams=["campaigns"]
    )
    assert [r["campaign_id"] for r in result.records["campaigns"]] == ["live"]
    assert len(api.entity_requests) == 2


def test_entity_value_shapes_missing_secondary_status_unknown_status_raw_numbers(api):
    api.add_campaign(
        "1001",
        "c1",
        operation_status="ENABLE",
        secondary_status="CAMPAIGN_STATUS_SOMETHING_NEW",
        budget=50,
        create_time="2026-01-02 03:04:05",
    )
    api.campaigns["1001"].append(
        {  # Promote campaigns come with few fields; ids can be raw numbers
            "campaign_id": 7123456789012345678,
            "campaign_name": "Promote",
            "operation_status": "ENABLE",
            "_buying_type": "AUCTION",
            "_origin": "PROMOTE",
            "_deleted": False,
        }
    )
    result = run_tap({**BASE, "start_date": "2026-03-01"}, streams=["campaigns"])
    by_id = {r["campaign_id"]: r for r in result.records["campaigns"]}
    assert by_id["c1"]["secondary_status"] == "CAMPAIGN_STATUS_SOMETHING_NEW"
    assert by_id["c1"]["budget"] == 50.0
    assert by_id["c1"]["create_time"] == "2026-01-02T03:04:05+00:00"
    promote = by_id["7123456789012345678"]
    assert promote["secondary_status"] is None
    assert promote["objective_type"] is None
    assert promote["budget"] is None


def test_report_value_shapes(api, monkeypatch, caplog):
    monkeypatch.setattr(
        reports, "utc_now", lambda: datetime.fromisoformat("2026-03-10T12:00:00+00:00")
    )
    api.reports[("AUCTION_CAMPAIGN", "1001")].append(
        {
            "dimensions": {
                "campaign_id": 7123456789012345678,
                "stat_time_day": "2026-03-05 00:00:00",
            },
            "metrics": {
                "campaign_name": "Spring",
                "spend": "12.3456",  # four decimals
                "cpc": "0.49",  # two
                "cost_per_conversion": "0.000",  # zero conversions: zero, not '-'
                "conversion_rate": "0.00",
                "cpm": None,  # JSON null
                "impressions": 1000,  # raw number
                "clicks": "25.0",
                "ctr": 2.5,
                "reach": "-",
                # frequency missing altogether
            },
        }
    )
    result = run_tap(
        {**BASE, "start_date": "2026-03-05", "end_date": "2026-03-05"},
        streams=["campaign_performance"],
    )
    (record,) = result.records["campaign_performance"]
    assert record["campaign_id"] == "7123456789012345678"
    assert record["spend"] == pytest.approx(12.3456)
    assert record["cpc"] == pytest.approx(0.49)
    assert record["cost_per_conversion"] == 0.0
    assert record["conversion_rate"] == 0.0
    assert record["cpm"] is None
    assert record["impressions"] == 1000
    assert record["clicks"] == 25
    assert record["ctr"] == 2.5
    assert record["reach"] is None
    assert record["frequency"] is None
    assert record["objective_type"] is None
    assert "non-numeric" not in caplog.text  # null and '-' are expected, not warnings


def test_report_rows_without_a_name_are_counted_and_logged(api, monkeypatch, caplog):
    monkeypatch.setattr(
        reports, "utc_now", lambda: datetime.fromisoformat("2026-03-10T12:00:00+00:00")
    )
    api.add_report_row("AUCTION_CAMPAIGN", "1001", "c1", "2026-03-05", campaign_name="Named")
    api.add_report_row("AUCTION_CAMPAIGN", "1001", "c2", "2026-03-05", campaign_name="-")
    api.add_report_row("AUCTION_CAMPAIGN", "1001", "c3", "2026-03-05")
    result = run_tap(
        {**BASE, "start_date": "2026-03-05", "end_date": "2026-03-05"},
        streams=["campaign_performance"],
    )
    names = {r["campaign_id"]: r["campaign_name"] for r in result.records["campaign_performance"]}
    assert names == {"c1": "Named", "c2": None, "c3": None}
    assert (
        "campaign_performance for advertiser 1001: 2 row(s) came without campaign_name"
        in caplog.text
    )
