"""Report queries TikTok will not answer in full: 40067 "query too large" and truncation.

Against the requests-mock API: a rule says which queries are too large or truncated, and the
tap must split them until every row arrives, or stop with one clear line.
"""

from __future__ import annotations

import json
import logging
from datetime import date, datetime

import pytest
from singer_sdk.exceptions import FatalAPIError

from tap_tiktok_ads.streams import reports
from tests.tap.fake_api import TOKEN, FakeTikTok, bookmarks, run_tap

BASE = {"access_token": TOKEN, "advertiser_ids": ["1001"], "max_requests_per_second": 1000}


@pytest.fixture(autouse=True)
def pinned_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        reports, "utc_now", lambda: datetime.fromisoformat("2026-03-10T12:00:00+00:00")
    )


def days(params: dict) -> int:
    return (
        date.fromisoformat(params["end_date"]) - date.fromisoformat(params["start_date"])
    ).days + 1


def ids_filter(params: dict, field_name: str = "campaign_ids") -> list[str] | None:
    for item in params.get("filtering", []):
        if item["field_name"] == field_name:
            return json.loads(item["filter_value"])
    return None


campaign_ids_filter = ids_filter


def add_rows(api: FakeTikTok, campaigns: int, day_list: list[str]) -> None:
    for n in range(campaigns):
        api.add_campaign("1001", f"c{n}")
        for day in day_list:
            api.add_report_row("AUCTION_CAMPAIGN", "1001", f"c{n}", day, spend="2.00")


def test_query_too_large_halves_the_window_until_tiktok_answers(api, caplog):
    add_rows(api, 3, [f"2026-01-{d:02d}" for d in range(1, 31)])
    api.too_large = lambda params: days(params) > 8
    with caplog.at_level(logging.WARNING):
        result = run_tap(
            {**BASE, "start_date": "2026-01-01", "end_date": "2026-01-30"},
            streams=["campaign_performance"],
        )
    rows = result.records["campaign_performance"]
    assert len(rows) == 3 * 30
    assert sum(r["spend"] for r in rows) == pytest.approx(2.0 * 90)
    answered = sorted((r["start_date"], r["end_date"]) for r in api.report_requests if days(r) <= 8)
    # 30 -> 15 + 15 -> 7 + 8 each: four answered queries covering the window exactly.
    assert answered == [
        ("2026-01-01", "2026-01-07"),
        ("2026-01-08", "2026-01-15"),
        ("2026-01-16", "2026-01-22"),
        ("2026-01-23", "2026-01-30"),
    ]
    assert bookmarks(result.final_state, "campaign_performance") == {"1001": "2026-01-30"}
    assert "query is too large (40067); split into 2026-01-01..2026-01-15 and" in caplog.text


def test_query_too_large_for_one_day_stops_with_advertiser_level_and_day(api):
    add_rows(api, 1, ["2026-01-05"])
    api.too_large = lambda _params: True
    with pytest.raises(FatalAPIError) as failure:
        run_tap(
            {**BASE, "start_date": "2026-01-04", "end_date": "2026-01-05"},
            streams=["campaign_performance"],
        )
    message = str(failure.value)
    assert "AUCTION_CAMPAIGN report for advertiser 1001 on 2026-01-04" in message
    assert "too large for TikTok even for one day" in message
    assert "\n" not in message


def test_truncated_report_is_split_by_campaign_ids_until_complete(api, caplog):
    add_rows(api, 5, ["2026-03-01", "2026-03-02"])
    # Truncated unless the query names at most 2 campaigns.
    api.truncated = lambda params: len(campaign_ids_filter(params) or "xxx") > 2
    with caplog.at_level(logging.WARNING):
        result = run_tap(
            {**BASE, "start_date": "2026-03-01", "end_date": "2026-03-02"},
            streams=["campaign_performance"],
        )
    rows = result.records["campaign_performance"]
    assert sorted((r["campaign_id"], r["stat_date"]) for r in rows) == sorted(
        (f"c{n}", day) for n in range(5) for day in ("2026-03-01", "2026-03-02")
    )
    # The campaign list came from campaign/get (every pass), and the answered queries cover
    # each campaign exactly once.
    assert {kind for kind, _ in api.entity_requests} == {"campaign"}
    answered = [campaign_ids_filter(r) for r in api.report_requests if not api.truncated(r)]
    assert sorted(i for ids in answered for i in ids or []) == [f"c{n}" for n in range(5)]
    assert "TikTok truncated the result (X-Tt-Ads-Throttle: Number of ad ids" in caplog.text
    assert "split by campaign_ids into 1 queries of up to 5 ids" in caplog.text


def test_truncated_report_for_one_campaign_stops_with_a_clear_line(api):
    add_rows(api, 1, ["2026-03-01"])
    api.truncated = lambda _params: True
    with pytest.raises(FatalAPIError, match=r"cannot split one campaign \(c0\) further"):
        run_tap(
            {**BASE, "start_date": "2026-03-01", "end_date": "2026-03-01"},
            streams=["campaign_performance"],
        )


def test_complete_reports_cost_no_extra_requests(api):
    add_rows(api, 3, ["2026-03-01"])
    run_tap(
        {**BASE, "start_date": "2026-03-01", "end_date": "2026-03-01"},
        streams=["campaign_performance"],
    )
    assert len(api.report_requests) == 1
    assert api.entity_requests == []


def test_truncated_ad_group_report_for_one_campaign_is_split_by_its_ad_groups(api, caplog):
    api.add_campaign("1001", "big")
    for n in range(5):
        api.adgroups["1001"].append(
            {
                "adgroup_id": f"g{n}",
                "campaign_id": "big",
                "_buying_type": "AUCTION",
                "_origin": "TT_ADS_PLATFORM",
                "_deleted": False,
            }
        )
        api.add_report_row("AUCTION_ADGROUP", "1001", f"g{n}", "2026-03-01", campaign_id="big")
    # Truncated unless the query names at most 2 ad groups.
    api.truncated = lambda params: len(ids_filter(params, "adgroup_ids") or "xxx") > 2
    with caplog.at_level(logging.WARNING):
        result = run_tap(
            {**BASE, "start_date": "2026-03-01", "end_date": "2026-03-01"},
            streams=["ad_group_performance"],
        )
    assert sorted(r["adgroup_id"] for r in result.records["ad_group_performance"]) == [
        f"g{n}" for n in range(5)
    ]
    answered = [ids_filter(r, "adgroup_ids") for r in api.report_requests if not api.truncated(r)]
    assert sorted(i for ids in answered for i in ids or []) == [f"g{n}" for n in range(5)]
    # The ad groups of that campaign came from adgroup/get, narrowed to it.
    adgroup_lists = [p for kind, p in api.entity_requests if kind == "adgroup"]
    assert adgroup_lists
    assert all(p["filtering"]["campaign_ids"] == ["big"] for p in adgroup_lists)
    assert "split by adgroup_ids into 1 queries of up to 5 ids" in caplog.text
    assert "split by adgroup_ids into 2 queries of up to 3 ids" in caplog.text


def test_truncated_campaign_report_for_one_campaign_is_not_split_by_ad_groups(api):
    api.add_campaign("1001", "big")
    api.add_report_row("AUCTION_CAMPAIGN", "1001", "big", "2026-03-01")
    api.truncated = lambda _params: True
    with pytest.raises(FatalAPIError, match=r"cannot split one campaign \(big\) further"):
        run_tap(
            {**BASE, "start_date": "2026-03-01", "end_date": "2026-03-01"},
            streams=["campaign_performance"],
        )
    assert [kind for kind, _ in api.entity_requests] == ["campaign"] * 4
