"""AUDIENCE reports and hourly rows over HTTP: 40002 where the API rejects a combination,
and numbers that add up exactly to the daily BASIC report."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest

CAMPAIGN = "AUCTION_CAMPAIGN"
ADGROUP = "AUCTION_ADGROUP"


def total(rows, metric):
    return sum((Decimal(str(r["metrics"][metric])) for r in rows), Decimal("0"))


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"report_type": "AUDIENCE", "metrics": ["spend", "reach"]}, "Invalid metric reach"),
        ({"report_type": "AUDIENCE", "metrics": ["likes"]}, "Invalid metric likes"),
        (
            {"report_type": "AUDIENCE", "dimensions": ["campaign_id", "stat_time_day"]},
            "need one audience breakdown",
        ),
        (
            {"report_type": "AUDIENCE", "dimensions": ["campaign_id", "stat_time_hour", "age"]},
            "stat_time_hour is not supported for AUDIENCE",
        ),
        (
            {"report_type": "AUDIENCE", "dimensions": ["campaign_id", "age", "country_code"]},
            "got age+country_code",
        ),
        ({"dimensions": ["campaign_id", "stat_time_day", "age"]}, "need report_type AUDIENCE"),
        ({"dimensions": ["campaign_id", "stat_time_hour"]}, "must not exceed 1 day"),
        (
            {"dimensions": ["campaign_id", "stat_time_hour"], "query_lifetime": True},
            "stat_time_hour is not allowed with query_lifetime",
        ),
        ({"dimensions": ["campaign_id", "stat_time_day", "stat_time_hour"]}, "not both"),
        ({"report_type": "CATALOG"}, "report_type: CATALOG is not supported"),
    ],
)
def test_combinations_the_api_rejects_are_40002(api, advertiser_id, params, says):
    base = {"dimensions": ["campaign_id", "stat_time_day", "age"]} | params
    body = api.report(advertiser_id, CAMPAIGN, **base)
    assert body["code"] == 40002, body
    assert says in body["message"]


def test_age_and_gender_rows_add_up_to_the_basic_report(api, advertiser_id):
    basic = api.report_rows(advertiser_id, CAMPAIGN, end_date="2026-11-03")
    audience = api.report_rows(
        advertiser_id,
        CAMPAIGN,
        report_type="AUDIENCE",
        dimensions=["campaign_id", "stat_time_day", "age", "gender"],
        metrics=["spend", "impressions", "clicks", "campaign_name"],
        end_date="2026-11-03",
    )
    assert len(audience) == len(basic) * 6 * 3  # six age groups x three genders
    keys = Counter(tuple(r["dimensions"].values()) for r in audience)
    assert max(keys.values()) == 1
    for metric in ("spend", "impressions", "clicks"):
        assert total(audience, metric) == total(basic, metric)
    assert {r["dimensions"]["gender"] for r in audience} == {"MALE", "FEMALE", "NONE"}
    assert all(r["metrics"]["campaign_name"] for r in audience)


def test_country_rows_of_one_ad_group_day_add_up_to_it(api, advertiser_id):
    (day,) = api.report_rows(
        advertiser_id, ADGROUP, start_date="2026-11-05", end_date="2026-11-05", page_size=1
    )[:1]
    adgroup_id = day["dimensions"]["adgroup_id"]
    filters = [
        {"field_name": "adgroup_ids", "filter_type": "IN", "filter_value": f'["{adgroup_id}"]'}
    ]
    rows = api.report_rows(
        advertiser_id,
        ADGROUP,
        report_type="AUDIENCE",
        dimensions=["adgroup_id", "stat_time_day", "country_code"],
        start_date="2026-11-05",
        end_date="2026-11-05",
        filtering=filters,
    )
    assert {r["dimensions"]["country_code"] for r in rows} >= {"US", "GB", "DE"}
    assert total(rows, "spend") == Decimal(str(day["metrics"]["spend"]))


def test_hourly_rows_cover_24_hours_and_add_up_to_the_day(api, advertiser_id):
    daily = api.report_rows(advertiser_id, CAMPAIGN, start_date="2026-11-10", end_date="2026-11-10")
    hourly = api.report_rows(
        advertiser_id,
        CAMPAIGN,
        dimensions=["campaign_id", "stat_time_hour"],
        start_date="2026-11-10",
        end_date="2026-11-10",
    )
    assert len(hourly) == 24 * len(daily)
    hours = {r["dimensions"]["stat_time_hour"] for r in hourly}
    assert hours == {f"2026-11-10 {h:02d}:00:00" for h in range(24)}
    for metric in ("spend", "impressions", "clicks"):
        assert total(hourly, metric) == total(daily, metric)


def test_lifetime_audience_report_has_no_time_dimension(api, advertiser_id):
    rows = api.report_rows(
        advertiser_id,
        CAMPAIGN,
        report_type="AUDIENCE",
        dimensions=["campaign_id", "platform"],
        query_lifetime=True,
    )
    assert rows
    assert all(set(r["dimensions"]) == {"campaign_id", "platform"} for r in rows)
