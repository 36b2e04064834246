"""Ads in the simulator: /ad/get/ and its filters, AUCTION_AD and AUCTION_ADVERTISER reports."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import pytest

from tiktok_sim.metrics import ADDITIVE_METRICS

AD_GET = "/ad/get/"
STATUS_ALL = {"filter_type": "IN", "filter_value": '["STATUS_ALL"]'}


def _ads(api, advertiser_id, **params):
    return api.data(AD_GET, advertiser_id=advertiser_id, page_size=1000, **params)["list"]


def test_ad_get_hides_deleted_ads_unless_status_all(api, sim, advertiser_id):
    every = sim.dataset.ads[advertiser_id]
    deleted = {ad.ad_id for ad in every if ad.deleted}
    assert deleted, "the dataset must have deleted ads for this test"
    # Some ads are deleted on their own, inside ad groups that are not.
    assert any(not sim.dataset.adgroup(ad.adgroup_id).deleted for ad in every if ad.deleted)
    default = {row["ad_id"] for row in _ads(api, advertiser_id)}
    assert default == {ad.ad_id for ad in every} - deleted
    listed = _ads(api, advertiser_id, filtering={"primary_status": "STATUS_ALL"})
    assert {row["ad_id"] for row in listed} == {ad.ad_id for ad in every}
    statuses = {row["ad_id"]: row["secondary_status"] for row in listed}
    assert all(statuses[ad_id] == "AD_STATUS_DELETE" for ad_id in deleted)


def test_ad_get_returns_the_creative_fields(api, advertiser_id):
    rows = _ads(api, advertiser_id)
    row = rows[0]
    for name in ("ad_name", "ad_text", "call_to_action", "landing_page_url", "identity_id"):
        assert isinstance(row[name], str)
        assert row[name]
    assert isinstance(row["image_ids"], list)
    assert any(r["video_id"] for r in rows)
    assert any(r["image_ids"] for r in rows)
    assert all(r["create_time"] <= r["modify_time"] for r in rows)
    only = _ads(api, advertiser_id, fields=["ad_id", "ad_name"])
    assert set(only[0]) == {"ad_id", "ad_name"}


def test_ad_get_filters_by_ids_and_creation_time(api, sim, advertiser_id):
    ads = [ad for ad in sim.dataset.ads[advertiser_id] if not ad.deleted]
    picked = [ads[0].ad_id, ads[3].ad_id]
    by_id = _ads(api, advertiser_id, filtering={"ad_ids": picked})
    assert sorted(row["ad_id"] for row in by_id) == sorted(picked)
    group = ads[0].adgroup_id
    by_group = _ads(api, advertiser_id, filtering={"adgroup_ids": [group]})
    assert {row["adgroup_id"] for row in by_group} == {group}
    assert len(by_group) == len([ad for ad in ads if ad.adgroup_id == group])
    latest = max(ad.create_time for ad in ads)
    recent = _ads(api, advertiser_id, filtering={"creation_filter_start_time": latest})
    assert [row["create_time"] for row in recent] == [latest] * len(recent)
    assert recent


def test_ad_get_rejects_undocumented_filters(make_sim, client_for):
    strict = make_sim(documented_filters_only=True, advertisers=1, adgroups=3)
    body = client_for(strict).body(
        AD_GET,
        advertiser_id=strict.dataset.advertiser_ids[0],
        filtering={"modified_after": "2026-11-01 00:00:00"},
    )
    assert body["code"] == 40002
    assert "modified_after" in body["message"]


def test_ad_rows_add_up_to_their_ad_group_rows(api, sim, advertiser_id):
    metrics = [*ADDITIVE_METRICS]
    ad_rows = api.report_rows(
        advertiser_id,
        "AUCTION_AD",
        metrics=[*metrics, "adgroup_id"],
        filtering=[{"field_name": "ad_status", **STATUS_ALL}],
    )
    group_rows = api.report_rows(
        advertiser_id,
        "AUCTION_ADGROUP",
        metrics=metrics,
        filtering=[{"field_name": "adgroup_status", **STATUS_ALL}],
    )
    assert len(ad_rows) == len(sim.dataset.ads[advertiser_id]) * 20
    sums: dict[tuple[str, str], dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for row in ad_rows:
        key = (row["metrics"]["adgroup_id"], row["dimensions"]["stat_time_day"])
        for name in metrics:
            sums[key][name] += Decimal(row["metrics"][name])
    assert len(group_rows) == len(sums)
    for row in group_rows:
        key = (row["dimensions"]["adgroup_id"], row["dimensions"]["stat_time_day"])
        assert {n: Decimal(row["metrics"][n]) for n in metrics} == dict(sums[key]), key


def test_ad_report_deleted_ads_and_ad_ids_filter(api, sim, advertiser_id):
    live = [ad.ad_id for ad in sim.dataset.ads[advertiser_id] if not ad.deleted]
    default = api.report_rows(advertiser_id, "AUCTION_AD", end_date="2026-11-01")
    assert {row["dimensions"]["ad_id"] for row in default} == set(live)
    picked = api.report_rows(
        advertiser_id,
        "AUCTION_AD",
        end_date="2026-11-01",
        metrics=["spend", "ad_name", "ad_text", "call_to_action"],
        filtering=[{"field_name": "ad_ids", "filter_type": "IN", "filter_value": f'["{live[1]}"]'}],
    )
    assert [row["dimensions"]["ad_id"] for row in picked] == [live[1]]
    assert picked[0]["metrics"]["ad_name"].startswith("Ad ")
    assert picked[0]["metrics"]["call_to_action"]


def test_ad_ids_filter_is_for_the_ad_level_only(api, advertiser_id):
    body = api.report(
        advertiser_id,
        "AUCTION_ADGROUP",
        filtering=[{"field_name": "ad_ids", "filter_type": "IN", "filter_value": '["1"]'}],
    )
    assert body["code"] == 40002


def test_cash_and_voucher_spend_add_up_to_spend_at_advertiser_level(api, advertiser_id):
    rows = api.report_rows(
        advertiser_id, "AUCTION_ADVERTISER", metrics=["spend", "cash_spend", "voucher_spend"]
    )
    assert len(rows) == 20
    for row in rows:
        m = row["metrics"]
        assert Decimal(m["cash_spend"]) + Decimal(m["voucher_spend"]) == Decimal(m["spend"])
        assert Decimal(m["voucher_spend"]) > 0


@pytest.mark.parametrize("level", ["AUCTION_CAMPAIGN", "AUCTION_ADGROUP", "AUCTION_AD"])
@pytest.mark.parametrize("metric", ["cash_spend", "voucher_spend"])
def test_cash_and_voucher_spend_are_rejected_below_the_advertiser(
    api, advertiser_id, level, metric
):
    body = api.report(advertiser_id, level, metrics=["spend", metric])
    assert body["code"] == 40002
    assert metric in body["message"]
    assert level in body["message"]


def test_ad_level_attribute_metrics_need_the_ad_id_dimension(api, advertiser_id):
    body = api.report(
        advertiser_id, "AUCTION_AD", dimensions=["stat_time_day"], metrics=["spend", "ad_name"]
    )
    assert body["code"] == 40002
    assert "ad_id" in body["message"]
