"""Report streams: windows, pagination, typing, lookback and time zones."""

from __future__ import annotations

import contextlib
import io
import json
import platform
from datetime import datetime

import pytest

from tap_tiktok_ads.memory import limit_malloc_arenas
from tap_tiktok_ads.streams import reports
from tap_tiktok_ads.tap import TapTikTokAds
from tests.tap.fake_api import TOKEN, FakeTikTok, bookmarks, run_tap

BASE = {"access_token": TOKEN, "advertiser_ids": ["1001"], "max_requests_per_second": 1000}


def pin_now(monkeypatch: pytest.MonkeyPatch, iso: str) -> None:
    monkeypatch.setattr(reports, "utc_now", lambda: datetime.fromisoformat(iso))


def campaign_report_requests(api: FakeTikTok) -> list[dict]:
    return [r for r in api.report_requests if r["data_level"] == "AUCTION_CAMPAIGN"]


def test_61_days_split_into_three_windows_of_at_most_30(api, monkeypatch):
    pin_now(monkeypatch, "2026-03-10T12:00:00+00:00")
    result = run_tap(
        {**BASE, "start_date": "2026-01-01", "end_date": "2026-03-02"},
        streams=["campaign_performance"],
    )
    windows = sorted((r["start_date"], r["end_date"]) for r in campaign_report_requests(api))
    assert windows == [
        ("2026-01-01", "2026-01-30"),
        ("2026-01-31", "2026-03-01"),
        ("2026-03-02", "2026-03-02"),
    ]
    assert result.records == {}
    assert bookmarks(result.final_state, "campaign_performance") == {"1001": "2026-03-02"}


def test_single_day_is_one_request(api, monkeypatch):
    pin_now(monkeypatch, "2026-03-10T12:00:00+00:00")
    run_tap(
        {**BASE, "start_date": "2026-03-05", "end_date": "2026-03-05"},
        streams=["campaign_performance"],
    )
    assert [(r["start_date"], r["end_date"]) for r in campaign_report_requests(api)] == [
        ("2026-03-05", "2026-03-05")
    ]


def test_request_uses_real_metric_names_and_json_params(api, monkeypatch):
    pin_now(monkeypatch, "2026-03-10T12:00:00+00:00")
    run_tap({**BASE, "start_date": "2026-03-05"}, streams=["campaign_performance"])
    request = campaign_report_requests(api)[0]
    assert request["report_type"] == "BASIC"
    assert request["dimensions"] == ["campaign_id", "stat_time_day"]
    assert "conversion" in request["metrics"]
    assert "conversions" not in request["metrics"]
    assert request["page_size"] == "1000"
    # Deleted objects, TopView (reports leave it out unless buying_type names it) and Promote
    # (left out unless campaign_system_origins names it), all in the one query.
    assert request["filtering"] == [
        {"field_name": "campaign_status", "filter_type": "IN", "filter_value": '["STATUS_ALL"]'},
        {
            "field_name": "buying_type",
            "filter_type": "IN",
            "filter_value": '["AUCTION","RESERVATION_RF","RESERVATION_TOP_VIEW"]',
        },
        {
            "field_name": "campaign_system_origins",
            "filter_type": "IN",
            "filter_value": '["TT_ADS_PLATFORM","PROMOTE"]',
        },
    ]


@pytest.mark.parametrize(("rows", "page_size", "expected_pages"), [(0, 2, 1), (4, 2, 2), (5, 2, 3)])
def test_pagination_follows_page_info(api, monkeypatch, rows, page_size, expected_pages):
    pin_now(monkeypatch, "2026-03-10T12:00:00+00:00")
    for n in range(rows):
        api.add_report_row("AUCTION_CAMPAIGN", "1001", f"c{n}", "2026-03-05")
    result = run_tap(
        {**BASE, "start_date": "2026-03-05", "end_date": "2026-03-05", "page_size": page_size},
        streams=["campaign_performance"],
    )
    pages = sorted(int(r["page"]) for r in campaign_report_requests(api))
    assert pages == list(range(1, expected_pages + 1))
    assert len(result.records.get("campaign_performance", [])) == rows


def test_metrics_are_typed_and_dash_is_null(api, monkeypatch):
    pin_now(monkeypatch, "2026-03-10T12:00:00+00:00")
    api.add_report_row(
        "AUCTION_CAMPAIGN",
        "1001",
        "c1",
        "2026-03-05",
        spend="12.50",
        impressions="1000",
        clicks="25",
        ctr="2.50",
        conversion="0",
        cost_per_conversion="-",
        reach="-",
        campaign_name="Spring",
        objective_type="REACH",
    )
    result = run_tap(
        {**BASE, "start_date": "2026-03-05", "end_date": "2026-03-05"},
        streams=["campaign_performance"],
    )
    (record,) = result.records["campaign_performance"]
    assert record["advertiser_id"] == "1001"
    assert record["campaign_id"] == "c1"
    assert record["stat_date"] == "2026-03-05"
    assert record["spend"] == 12.5
    assert record["impressions"] == 1000
    assert record["clicks"] == 25
    assert record["conversion"] == 0
    assert record["cost_per_conversion"] is None
    assert record["reach"] is None
    assert record["campaign_name"] == "Spring"


def test_rows_without_key_or_repeated_are_dropped_not_loaded(api, monkeypatch):
    pin_now(monkeypatch, "2026-03-10T12:00:00+00:00")
    api.add_report_row("AUCTION_CAMPAIGN", "1001", "c1", "2026-03-05")
    api.add_report_row("AUCTION_CAMPAIGN", "1001", "c1", "2026-03-05")
    api.add_report_row("AUCTION_CAMPAIGN", "1001", "", "2026-03-05")
    result = run_tap(
        {**BASE, "start_date": "2026-03-05", "end_date": "2026-03-05"},
        streams=["campaign_performance"],
    )
    assert [r["campaign_id"] for r in result.records["campaign_performance"]] == ["c1"]


def test_second_run_rereads_only_the_lookback(api, monkeypatch):
    pin_now(monkeypatch, "2026-03-10T12:00:00+00:00")
    first = run_tap(
        {**BASE, "start_date": "2026-01-01", "lookback_days": 3}, streams=["campaign_performance"]
    )
    assert bookmarks(first.final_state, "campaign_performance") == {"1001": "2026-03-10"}
    api.report_requests.clear()
    pin_now(monkeypatch, "2026-03-11T12:00:00+00:00")
    second = run_tap(
        {**BASE, "start_date": "2026-01-01", "lookback_days": 3},
        state=first.final_state,
        streams=["campaign_performance"],
    )
    assert [(r["start_date"], r["end_date"]) for r in campaign_report_requests(api)] == [
        ("2026-03-07", "2026-03-11")
    ]
    assert bookmarks(second.final_state, "campaign_performance") == {"1001": "2026-03-11"}


def test_today_is_the_advertisers_day_not_utcs(api, monkeypatch):
    # 2026-03-10 20:00 UTC is already 2026-03-11 in Tokyo and still 2026-03-10 in Los Angeles.
    api.advertisers = {"1001": "Asia/Tokyo", "1002": "America/Los_Angeles"}
    pin_now(monkeypatch, "2026-03-10T20:00:00+00:00")
    result = run_tap(
        {**BASE, "advertiser_ids": ["1001", "1002"], "start_date": "2026-03-09"},
        streams=["campaign_performance"],
    )
    ends = {r["advertiser_id"]: r["end_date"] for r in campaign_report_requests(api)}
    assert ends == {"1001": "2026-03-11", "1002": "2026-03-10"}
    assert bookmarks(result.final_state, "campaign_performance") == {
        "1001": "2026-03-11",
        "1002": "2026-03-10",
    }


def test_bookmark_never_runs_ahead_of_emitted_windows(api, monkeypatch):
    """A failure in the second window leaves the bookmark at the end of the first."""
    pin_now(monkeypatch, "2026-03-10T12:00:00+00:00")
    api.add_report_row("AUCTION_CAMPAIGN", "1001", "c1", "2026-01-05")
    real_report = api._report

    def fail_second_window(request, context):
        params = request.qs
        if params.get("start_date") == ["2026-01-31"]:
            return {"code": 40001, "message": "No permission", "request_id": "r-9", "data": {}}
        return real_report(request, context)

    api.mocker.get(
        "https://fake.tiktok.test/open_api/v1.3/report/integrated/get/", json=fail_second_window
    )

    tap = TapTikTokAds(
        config={
            "api_url": "https://fake.tiktok.test/open_api/v1.3",
            **BASE,
            "start_date": "2026-01-01",
        }
    )
    for stream in tap.streams.values():
        stream.selected = stream.name == "campaign_performance"
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(Exception, match="40001"):
        tap.sync_all()
    lines = out.getvalue().splitlines()
    states = [json.loads(line)["value"] for line in lines if '"STATE"' in line]
    records = [line for line in lines if '"RECORD"' in line]
    assert len(records) == 1
    assert bookmarks(states[-1], "campaign_performance") == {"1001": "2026-01-30"}


def test_malloc_arenas_are_capped_where_glibc_allows_it():
    # Fetch threads would otherwise each keep their own glibc arena (docs/performance.md).
    is_glibc = platform.libc_ver()[0] == "glibc"
    assert limit_malloc_arenas() is is_glibc
