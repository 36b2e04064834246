"""GET /report/integrated/get/: validation, pagination, deleted objects, sums, time zones."""

from __future__ import annotations

import time
from collections import Counter
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pytest

ADDITIVE = ["spend", "impressions", "clicks", "conversion", "video_play_actions"]
ALL_METRICS = [
    "spend",
    "impressions",
    "clicks",
    "ctr",
    "cpm",
    "cpc",
    "reach",
    "frequency",
    "conversion",
    "cost_per_conversion",
    "conversion_rate",
    "real_time_conversion",
    "result",
    "cost_per_result",
    "video_play_actions",
    "video_watched_2s",
    "video_watched_6s",
    "video_views_p25",
    "video_views_p50",
    "video_views_p75",
    "video_views_p100",
    "average_video_play",
    "likes",
    "comments",
    "shares",
    "follows",
    "profile_visits",
]
CENT = Decimal("0.01")
STATUS_ALL = {"filter_type": "IN", "filter_value": '["STATUS_ALL"]'}


def _sum(rows, metric):
    values = [r["metrics"][metric] for r in rows]
    return sum(Decimal(v) for v in values) if metric == "spend" else sum(int(v) for v in values)


def test_rows_have_dimensions_and_string_metrics(api, advertiser_id):
    body = api.report(advertiser_id, "AUCTION_CAMPAIGN", metrics=ALL_METRICS, page_size=5)
    assert body["code"] == 0
    row = body["data"]["list"][0]
    assert set(row["dimensions"]) == {"campaign_id", "stat_time_day"}
    assert row["dimensions"]["stat_time_day"] == "2026-11-01 00:00:00"
    assert list(row["metrics"]) == ALL_METRICS
    assert all(isinstance(v, str) for v in row["metrics"].values())
    spend = row["metrics"]["spend"]
    assert spend == "-" or len(spend.split(".")[1]) == 2


def test_metric_values_are_plausible(api, advertiser_id):
    rows = api.report_rows(advertiser_id, "AUCTION_ADGROUP", metrics=ALL_METRICS)
    dashes = Counter()
    for row in rows:
        m = row["metrics"]
        impressions, clicks = int(m["impressions"]), int(m["clicks"])
        assert 0 <= clicks <= impressions
        if m["reach"] != "-":
            assert int(m["reach"]) <= impressions
        if impressions:
            ctr = (Decimal(clicks) * 100 / impressions).quantize(CENT, ROUND_HALF_UP)
            assert Decimal(m["ctr"]) == ctr
        if m["conversion"] == "0":
            assert m["cost_per_conversion"] == "-"
        dashes.update(k for k, v in m.items() if v == "-")
        assert int(m["video_watched_6s"]) <= int(m["video_watched_2s"])
    assert dashes["cost_per_conversion"] > 0
    assert dashes["reach"] > 0


def test_unknown_metric_conversions_is_rejected_naming_it(api, advertiser_id):
    body = api.report(advertiser_id, "AUCTION_CAMPAIGN", metrics=["spend", "conversions"])
    assert body["code"] == 40002
    assert "conversions" in body["message"]


def test_attribute_metrics_only_at_their_level(api, advertiser_id, sim):
    body = api.report(
        advertiser_id, "AUCTION_CAMPAIGN", metrics=["campaign_name", "objective_type", "spend"]
    )
    row = body["data"]["list"][0]
    campaign = sim.dataset.campaign(row["dimensions"]["campaign_id"])
    assert row["metrics"]["campaign_name"] == campaign.campaign_name
    assert row["metrics"]["objective_type"] == campaign.objective_type
    ad_group = api.report(
        advertiser_id, "AUCTION_ADGROUP", metrics=["adgroup_name", "campaign_id", "campaign_name"]
    )["data"]["list"][0]
    assert (
        ad_group["metrics"]["campaign_id"]
        == sim.dataset.adgroup(ad_group["dimensions"]["adgroup_id"]).campaign_id
    )
    wrong = api.report(advertiser_id, "AUCTION_CAMPAIGN", metrics=["adgroup_name"])
    assert wrong["code"] == 40002
    assert "adgroup_name" in wrong["message"]


@pytest.mark.parametrize(
    ("level", "dimensions"),
    [
        ("AUCTION_CAMPAIGN", ["adgroup_id", "stat_time_day"]),
        ("AUCTION_ADGROUP", ["campaign_id", "stat_time_day"]),
        ("AUCTION_ADVERTISER", ["campaign_id"]),
        ("AUCTION_CAMPAIGN", ["campaign_id", "stat_time_hour"]),
    ],
)
def test_dimensions_must_match_the_data_level(api, advertiser_id, level, dimensions):
    body = api.report(advertiser_id, level, dimensions=dimensions)
    assert body["code"] == 40002
    assert dimensions[0] in body["message"] or dimensions[1] in body["message"]


@pytest.mark.parametrize(
    "params",
    [
        {"report_type": None},
        {"data_level": "AUCTION_NOTHING"},
        {"start_date": "2026/11/01"},
        {"start_date": "2026-11-10", "end_date": "2026-11-09"},
        {"dimensions": "campaign_id"},
        {"page_size": 1001},
        {"page_size": 0},
    ],
)
def test_bad_report_parameters_are_40002(api, advertiser_id, params):
    query = {k: v for k, v in params.items() if v is not None}
    if params.get("report_type", "x") is None:
        query["report_type"] = ""
    assert api.report(advertiser_id, "AUCTION_CAMPAIGN", **query)["code"] == 40002


def test_daily_range_of_30_days_is_fine_and_31_is_40002(api, advertiser_id):
    ok = api.report(advertiser_id, "AUCTION_ADVERTISER", start_date="2026-10-22")
    assert ok["code"] == 0
    assert ok["data"]["page_info"]["total_number"] == 30
    too_long = api.report(advertiser_id, "AUCTION_ADVERTISER", start_date="2026-10-21")
    assert too_long["code"] == 40002
    assert "30" in too_long["message"]


def test_range_without_stat_time_day_may_exceed_30_days(api, advertiser_id, sim):
    body = api.report(
        advertiser_id,
        "AUCTION_CAMPAIGN",
        dimensions=["campaign_id"],
        start_date="2026-08-01",
        end_date="2026-11-20",
    )
    assert body["code"] == 0
    rows = body["data"]["list"]
    expected = sim.dataset.report_totals(
        "AUCTION_CAMPAIGN", advertiser_id, date(2026, 8, 1), date(2026, 11, 20), False
    )
    assert _sum(rows, "spend") == expected["spend"]
    assert len(rows) == len(sim.dataset.list_campaigns(advertiser_id, include_deleted=False))


def test_dates_are_inclusive(api, advertiser_id, sim):
    rows = api.report_rows(
        advertiser_id, "AUCTION_ADGROUP", start_date="2026-11-05", end_date="2026-11-05"
    )
    assert len(rows) == sum(not g.deleted for g in sim.dataset.list_adgroups(advertiser_id))
    assert {r["dimensions"]["stat_time_day"] for r in rows} == {"2026-11-05 00:00:00"}


def test_post_to_the_report_is_rejected(sim, api):
    response = api.session.post(
        sim.api_url + "/report/integrated/get/",
        headers={"Access-Token": sim.config.access_token},
        json={"advertiser_id": sim.dataset.advertiser_ids[0]},
        timeout=5,
    )
    assert response.status_code == 405
    assert response.json()["code"] == 40002


def test_pages_cover_every_row_once(api, advertiser_id, sim):
    expected = sim.dataset.report_row_count(
        "AUCTION_ADGROUP", advertiser_id, date(2026, 11, 1), date(2026, 11, 20), False
    )
    rows = api.report_rows(advertiser_id, "AUCTION_ADGROUP", page_size=37)
    keys = [(r["dimensions"]["adgroup_id"], r["dimensions"]["stat_time_day"]) for r in rows]
    assert len(keys) == len(set(keys)) == expected


def test_exact_multiple_of_page_size(api, advertiser_id, sim):
    # 20 days x 4 visible campaigns = 80 rows = 4 full pages of 20.
    total = sim.dataset.report_row_count(
        "AUCTION_CAMPAIGN", advertiser_id, date(2026, 11, 1), date(2026, 11, 20), False
    )
    page_size = 20
    assert total % page_size == 0
    last = api.report(advertiser_id, "AUCTION_CAMPAIGN", page_size=page_size, page=total // 20)
    info = last["data"]["page_info"]
    assert info == {
        "page": total // page_size,
        "page_size": page_size,
        "total_number": total,
        "total_page": total // page_size,
    }
    assert len(last["data"]["list"]) == page_size
    beyond = api.report(advertiser_id, "AUCTION_CAMPAIGN", page_size=20, page=total // 20 + 1)
    assert beyond["code"] == 0
    assert beyond["data"]["list"] == []


def test_empty_report(api, advertiser_id):
    body = api.report(
        advertiser_id, "AUCTION_CAMPAIGN", start_date="2025-01-01", end_date="2025-01-10"
    )
    assert body["code"] == 0
    assert body["data"]["list"] == []
    assert body["data"]["page_info"] == {
        "page": 1,
        "page_size": 1000,
        "total_number": 0,
        "total_page": 0,
    }


def test_days_outside_the_dataset_have_no_rows(api, advertiser_id):
    body = api.report(
        advertiser_id, "AUCTION_ADVERTISER", start_date="2026-11-15", end_date="2026-12-10"
    )
    days = [r["dimensions"]["stat_time_day"][:10] for r in body["data"]["list"]]
    assert days == [f"2026-11-{d}" for d in range(15, 21)]


def test_deleted_objects_only_with_the_status_filter(api, advertiser_id, sim):
    deleted_campaigns = {
        c.campaign_id for c in sim.dataset.list_campaigns(advertiser_id) if c.deleted
    }
    default = api.report_rows(advertiser_id, "AUCTION_CAMPAIGN")
    assert not deleted_campaigns & {r["dimensions"]["campaign_id"] for r in default}
    every = api.report_rows(
        advertiser_id,
        "AUCTION_CAMPAIGN",
        filtering=[{"field_name": "campaign_status", **STATUS_ALL}],
    )
    deleted_rows = [r for r in every if r["dimensions"]["campaign_id"] in deleted_campaigns]
    assert deleted_rows
    assert _sum(deleted_rows, "spend") > 0  # deleted campaigns still have spend
    deleted_adgroups = {g.adgroup_id for g in sim.dataset.list_adgroups(advertiser_id) if g.deleted}
    default_ag = api.report_rows(advertiser_id, "AUCTION_ADGROUP")
    assert not deleted_adgroups & {r["dimensions"]["adgroup_id"] for r in default_ag}
    every_ag = api.report_rows(
        advertiser_id,
        "AUCTION_ADGROUP",
        filtering=[{"field_name": "adgroup_status", **STATUS_ALL}],
    )
    assert deleted_adgroups <= {r["dimensions"]["adgroup_id"] for r in every_ag}


def test_status_filter_field_must_match_level(api, advertiser_id):
    body = api.report(
        advertiser_id,
        "AUCTION_CAMPAIGN",
        filtering=[{"field_name": "adgroup_status", **STATUS_ALL}],
    )
    assert body["code"] == 40002


@pytest.mark.parametrize("advertiser_index", [0, 1])
def test_additive_metrics_sum_exactly_across_levels(api, sim, advertiser_index):
    advertiser_id = sim.dataset.advertiser_ids[advertiser_index]
    metrics = {"metrics": ADDITIVE}
    advertiser = api.report_rows(advertiser_id, "AUCTION_ADVERTISER", **metrics)
    campaigns = api.report_rows(
        advertiser_id,
        "AUCTION_CAMPAIGN",
        filtering=[{"field_name": "campaign_status", **STATUS_ALL}],
        **metrics,
    )
    adgroups = api.report_rows(
        advertiser_id,
        "AUCTION_ADGROUP",
        filtering=[{"field_name": "adgroup_status", **STATUS_ALL}],
        **metrics,
    )
    expected = sim.dataset.report_totals(
        "AUCTION_ADVERTISER", advertiser_id, date(2026, 11, 1), date(2026, 11, 20)
    )
    for metric in ADDITIVE:
        assert _sum(advertiser, metric) == _sum(campaigns, metric) == _sum(adgroups, metric)
        assert _sum(advertiser, metric) == expected[metric]
    # Day by day too, not only in total.
    by_day = Counter()
    for row in adgroups:
        by_day[row["dimensions"]["stat_time_day"]] += Decimal(row["metrics"]["spend"])
    for row in advertiser:
        assert by_day[row["dimensions"]["stat_time_day"]] == Decimal(row["metrics"]["spend"])


def test_totals_without_deleted_match_the_dataset(api, sim, advertiser_id):
    start, end = date(2026, 11, 1), date(2026, 11, 20)
    for level in ("AUCTION_CAMPAIGN", "AUCTION_ADGROUP"):
        rows = api.report_rows(advertiser_id, level, metrics=ADDITIVE)
        expected = sim.dataset.report_totals(level, advertiser_id, start, end, False)
        assert len(rows) == sim.dataset.report_row_count(level, advertiser_id, start, end, False)
        for metric in ADDITIVE:
            assert _sum(rows, metric) == expected[metric]


def test_reach_is_not_additive(api, advertiser_id):
    metrics = {"metrics": ["reach", "impressions"], "dimensions": ["stat_time_day"]}
    status_all = [{"field_name": "adgroup_status", **STATUS_ALL}]
    advertiser = api.report_rows(advertiser_id, "AUCTION_ADVERTISER", **metrics)
    adgroups = api.report_rows(
        advertiser_id,
        "AUCTION_ADGROUP",
        filtering=status_all,
        **(metrics | {"dimensions": ["adgroup_id", "stat_time_day"]}),
    )
    reach_sum = sum(int(r["metrics"]["reach"]) for r in adgroups if r["metrics"]["reach"] != "-")
    advertiser_reach = sum(int(r["metrics"]["reach"]) for r in advertiser)
    assert advertiser_reach < reach_sum
    assert all(int(r["metrics"]["reach"]) <= int(r["metrics"]["impressions"]) for r in advertiser)


def test_campaign_id_filter(api, advertiser_id, sim):
    campaign_id = sim.dataset.list_campaigns(advertiser_id)[0].campaign_id
    rows = api.report_rows(
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
    assert {r["dimensions"]["campaign_id"] for r in rows} == {campaign_id}


def test_total_metrics_on_request(api, advertiser_id, sim):
    body = api.report(advertiser_id, "AUCTION_CAMPAIGN", enable_total_metrics=True, page_size=5)
    expected = sim.dataset.report_totals(
        "AUCTION_CAMPAIGN", advertiser_id, date(2026, 11, 1), date(2026, 11, 20), False
    )
    assert Decimal(body["data"]["total_metrics"]["spend"]) == expected["spend"]


def test_each_advertiser_has_its_own_currency_and_time_zone(sim):
    advertisers = sim.dataset.advertisers
    assert [a.timezone for a in advertisers] == ["America/Los_Angeles", "Europe/London"]
    assert [a.currency for a in advertisers] == ["USD", "GBP"]


def test_default_end_date_is_today_in_each_advertisers_time_zone(make_sim, client_for):
    sim = make_sim(advertisers=5, end_date=None, days=3)
    api = client_for(sim)
    for advertiser in sim.dataset.advertisers:
        today = datetime.now(ZoneInfo(advertiser.timezone)).date()
        assert advertiser.last_day == today
        body = api.report(
            advertiser.advertiser_id,
            "AUCTION_ADVERTISER",
            start_date=today.isoformat(),
            end_date=today.isoformat(),
        )
        assert body["data"]["page_info"]["total_number"] == 1
    assert len({a.timezone for a in sim.dataset.advertisers}) == 5


def test_large_dataset_serves_pages_without_materialising(make_sim, client_for):
    sim = make_sim(advertisers=5, campaigns=50, adgroups=1000, days=365)
    api = client_for(sim)
    advertiser_id = sim.dataset.advertiser_ids[4]
    started = time.monotonic()
    body = api.report(advertiser_id, "AUCTION_ADGROUP", page=16, metrics=ALL_METRICS)
    assert time.monotonic() - started < 2
    info = body["data"]["page_info"]
    assert info["total_number"] == 20 * sum(
        not g.deleted for g in sim.dataset.list_adgroups(advertiser_id)
    )
    assert len(body["data"]["list"]) == 1000
    campaigns = api.report(advertiser_id, "AUCTION_CAMPAIGN", page=1)
    assert campaigns["code"] == 0


def test_query_lifetime_covers_the_whole_dataset(api, advertiser_id, sim):
    body = api.report(
        advertiser_id,
        "AUCTION_ADVERTISER",
        dimensions=["advertiser_id"],
        query_lifetime=True,
        start_date="",
        end_date="",
    )
    advertiser = sim.dataset.advertiser(advertiser_id)
    expected = sim.dataset.report_totals(
        "AUCTION_ADVERTISER", advertiser_id, advertiser.first_day, advertiser.last_day
    )
    [row] = body["data"]["list"]
    assert Decimal(row["metrics"]["spend"]) == expected["spend"]
    daily = api.report(advertiser_id, "AUCTION_ADVERTISER", query_lifetime=True)
    assert daily["code"] == 40002


def test_status_delete_returns_only_deleted_rows(api, advertiser_id, sim):
    rows = api.report_rows(
        advertiser_id,
        "AUCTION_ADGROUP",
        filtering=[
            {
                "field_name": "adgroup_status",
                "filter_type": "IN",
                "filter_value": '["STATUS_DELETE"]',
            }
        ],
    )
    ids = {r["dimensions"]["adgroup_id"] for r in rows}
    assert ids == {g.adgroup_id for g in sim.dataset.list_adgroups(advertiser_id) if g.deleted}


def test_report_for_an_unauthorized_advertiser_is_40001(api):
    body = api.report("7999000000000000000", "AUCTION_CAMPAIGN")
    assert body["code"] == 40001
    assert "7999000000000000000" in body["message"]


def test_day_only_dimension_sums_the_level(api, advertiser_id):
    by_campaign = api.report_rows(advertiser_id, "AUCTION_CAMPAIGN")
    by_day = api.report_rows(advertiser_id, "AUCTION_CAMPAIGN", dimensions=["stat_time_day"])
    assert len(by_day) == 20
    assert _sum(by_day, "spend") == _sum(by_campaign, "spend")
