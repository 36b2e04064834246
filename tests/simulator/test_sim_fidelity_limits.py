"""Issue 14 / 16.5 over HTTP: per-app QPS (40100), 40067 query size, truncated sync reports."""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal

import requests

from tiktok_sim.ratelimit import AppRateLimiter

STATUS_ALL = {"filter_type": "IN", "filter_value": '["STATUS_ALL"]'}
HEADER = "X-Tt-Ads-Throttle"


def _codes(api, advertiser_ids, n):
    """n calls spread over advertisers and endpoints; their body codes."""
    codes = []
    for i in range(n):
        path = ("/campaign/get/", "/adgroup/get/")[i % 2]
        codes.append(api.body(path, advertiser_id=advertiser_ids[i % len(advertiser_ids)])["code"])
    return codes


def test_app_qps_limit_counts_every_token_and_advertiser_of_the_app(make_sim, client_for):
    sim = make_sim(app_qps_limit=4, advertisers=2)
    ids = sim.dataset.advertiser_ids
    other_token = sim.tokens.redeem_auth_code(sim.tokens.issue_auth_code(ids)).access_token
    first, second = client_for(sim), client_for(sim, other_token)
    assert _codes(first, ids, 2) == [0, 0]
    assert _codes(second, ids, 2) == [0, 0]
    refused = second.body("/campaign/get/", advertiser_id=ids[1])
    assert refused["code"] == 40100
    assert refused["message"] == (
        f"App {sim.config.app_id} reaches the QPS limit 4, current QPS is 5."
    )
    # OAuth endpoints of the app count too.
    assert (
        first.body(
            "/oauth2/advertiser/get/", app_id=sim.config.app_id, secret=sim.config.app_secret
        )["code"]
        == 40100
    )
    assert sim.stats.rate_limited == 2
    assert sim.stats.count(outcome=40100) == 2
    stats = requests.get(sim.base_url + "/_sim/stats", timeout=5).json()
    assert stats["rate_limited"] == 2
    time.sleep(1.05)  # the window slides: the app may call again
    assert _codes(first, ids, 4) == [0, 0, 0, 0]


def test_a_client_paced_under_the_limit_sees_no_40100(make_sim, client_for):
    sim = make_sim(app_qps_limit=10)
    api = client_for(sim)
    advertiser_id = sim.dataset.advertiser_ids[0]
    started = time.monotonic()
    for i in range(14):  # 9 per second, 10% under the limit, like the tap
        time.sleep(max(0.0, started + i / 9 - time.monotonic()))
        assert api.body("/campaign/get/", advertiser_id=advertiser_id)["code"] == 0
    assert sim.stats.rate_limited == 0


def test_app_qps_limit_off_and_switched_at_run_time(make_sim, client_for):
    sim = make_sim(app_qps_limit=None)
    api = client_for(sim)
    ids = sim.dataset.advertiser_ids
    assert set(_codes(api, ids, 25)) == {0}
    switched = requests.post(sim.base_url + "/_sim/switches", json={"app_qps_limit": 2}, timeout=5)
    assert switched.json()["app_qps_limit"] == 2
    assert _codes(api, ids, 3) == [0, 0, 40100]
    bad = requests.post(sim.base_url + "/_sim/switches", json={"app_qps_limit": 0}, timeout=5)
    assert bad.status_code == 400
    assert "app_qps_limit" in bad.json()["error"]
    assert requests.get(sim.base_url + "/_sim/switches", timeout=5).json()["app_qps_limit"] == 2


def test_sliding_window_is_one_second_wide():
    now = [100.0]
    limiter = AppRateLimiter(clock=lambda: now[0])
    assert [limiter.admit(3) for _ in range(3)] == [None, None, None]
    now[0] = 100.5
    assert limiter.admit(3) == 4  # still three in the last second
    now[0] = 101.0  # the first three leave the window
    assert limiter.admit(3) is None
    assert limiter.admit(None) is None


def test_40067_above_the_query_size_and_a_shorter_window_passes(make_sim, client_for):
    # 3 campaigns x 3 metrics: 20 days = 180 > 150; 10 days = 90.
    sim = make_sim(query_size_limit=150, campaigns=3, adgroups=6)
    api = client_for(sim)
    advertiser_id = sim.dataset.advertiser_ids[0]
    too_large = api.report(advertiser_id, "AUCTION_CAMPAIGN")
    assert too_large["code"] == 40067
    assert "query is too large" in too_large["message"]
    assert api.report(advertiser_id, "AUCTION_CAMPAIGN", end_date="2026-11-10")["code"] == 0
    # A one-object query over the same 20 days is small enough.
    campaign_id = sim.dataset.campaigns[advertiser_id][0].campaign_id
    one = api.report(
        advertiser_id,
        "AUCTION_CAMPAIGN",
        filtering=[
            {
                "field_name": "campaign_ids",
                "filter_type": "IN",
                "filter_value": f'["{campaign_id}"]',
            }
        ],
    )
    assert one["code"] == 0


def _report(api, advertiser_id, level, filtering=(), **params):
    query = {
        "advertiser_id": advertiser_id,
        "report_type": "BASIC",
        "data_level": level,
        "dimensions": [
            {"AUCTION_CAMPAIGN": "campaign_id"}.get(level, "adgroup_id"),
            "stat_time_day",
        ],
        "metrics": ["spend", "impressions"],
        "start_date": "2026-11-01",
        "end_date": "2026-11-20",
        "page_size": 1000,
        "filtering": [*filtering],
    }
    response = api.get("/report/integrated/get/", **(query | params))
    body = response.json()
    assert body["code"] == 0, body
    return response.headers.get(HEADER), body["data"]


def test_truncated_sync_report_keeps_the_newest_ad_groups_and_says_so(make_sim, client_for):
    sim = make_sim(sync_report_ad_limit=5, campaigns=3, adgroups=12)
    api = client_for(sim)
    advertiser_id = sim.dataset.advertiser_ids[0]
    status_all = [{"field_name": "adgroup_status", **STATUS_ALL}]
    header, data = _report(api, advertiser_id, "AUCTION_ADGROUP", status_all)
    assert header == (
        "Number of ad ids is equal or more than 5, only return the top 5 id's results, "
        "sorting by create time desc order."
    )
    ad_groups = sim.dataset.adgroups[advertiser_id]
    newest = sorted(ad_groups, key=lambda g: (g.create_time, g.adgroup_id), reverse=True)[:5]
    seen = {row["dimensions"]["adgroup_id"] for row in data["list"]}
    assert seen == {g.adgroup_id for g in newest}
    assert data["page_info"]["total_number"] == len(data["list"]) == 5 * 20
    # A shorter window does not help; narrowing the objects does.
    header_day, _ = _report(
        api, advertiser_id, "AUCTION_ADGROUP", status_all, end_date="2026-11-01"
    )
    assert header_day is not None
    spend = Decimal(0)
    for campaign in sim.dataset.campaigns[advertiser_id]:
        ids = '["' + '","'.join(campaign.adgroup_ids) + '"]'
        by_ids = {"field_name": "adgroup_ids", "filter_type": "IN", "filter_value": ids}
        header, data = _report(api, advertiser_id, "AUCTION_ADGROUP", [*status_all, by_ids])
        assert header is None
        spend += sum(Decimal(row["metrics"]["spend"]) for row in data["list"])
    truth = sim.dataset.report_totals("AUCTION_ADGROUP", advertiser_id, _d(1), _d(20))
    assert spend == truth["spend"]


def test_truncation_also_lowers_campaign_rows_and_can_be_switched_off(make_sim, client_for):
    sim = make_sim(sync_report_ad_limit=5, campaigns=3, adgroups=12)
    api = client_for(sim)
    advertiser_id = sim.dataset.advertiser_ids[0]
    status_all = [{"field_name": "campaign_status", **STATUS_ALL}]
    truth = sim.dataset.report_totals("AUCTION_CAMPAIGN", advertiser_id, _d(1), _d(20))
    header, data = _report(api, advertiser_id, "AUCTION_CAMPAIGN", status_all)
    assert header is not None
    assert sum(Decimal(r["metrics"]["spend"]) for r in data["list"]) < truth["spend"]
    requests.post(sim.base_url + "/_sim/switches", json={"sync_report_ad_limit": None}, timeout=5)
    header, data = _report(api, advertiser_id, "AUCTION_CAMPAIGN", status_all)
    assert header is None
    assert sum(Decimal(r["metrics"]["spend"]) for r in data["list"]) == truth["spend"]


def test_more_than_100_ids_in_a_report_filter_is_40002(api, advertiser_id):
    ids = "[" + ",".join(f'"{n}"' for n in range(101)) + "]"
    body = api.report(
        advertiser_id,
        "AUCTION_CAMPAIGN",
        filtering=[{"field_name": "campaign_ids", "filter_type": "IN", "filter_value": ids}],
    )
    assert body["code"] == 40002
    assert "at most 100" in body["message"]


def _d(day: int) -> date:
    return date(2026, 11, day)
