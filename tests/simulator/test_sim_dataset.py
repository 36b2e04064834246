"""The data model on its own: sizes, ids, exact integer formatting, revisions."""

from __future__ import annotations

from datetime import date

import pytest

from tiktok_sim import SimConfig
from tiktok_sim.dataset import Dataset, Totals, combine, format_cents


def test_sizes_and_ids():
    dataset = Dataset(SimConfig(advertisers=3, campaigns=4, adgroups=10, days=5))
    assert len(dataset.advertisers) == 3
    for advertiser_id in dataset.advertiser_ids:
        assert len(advertiser_id) == 19
        assert advertiser_id.isdigit()
        # 4 regular campaigns, then 1 TopView and 1 Promote campaign with one ad group each.
        campaigns = dataset.list_campaigns(advertiser_id)
        assert [(c.buying_type, c.system_origin) for c in campaigns[4:]] == [
            ("RESERVATION_TOP_VIEW", "TT_ADS_PLATFORM"),
            ("AUCTION", "PROMOTE"),
        ]
        assert not any(c.special for c in campaigns[:4])
        ad_groups = dataset.list_adgroups(advertiser_id)
        assert len(ad_groups) == 12
        assert [len(c.adgroup_ids) for c in campaigns[4:]] == [1, 1]
        assert all(len(g.adgroup_id) == 19 for g in ad_groups)
        campaign_ids = {c.campaign_id for c in dataset.list_campaigns(advertiser_id)}
        assert {g.campaign_id for g in ad_groups} == campaign_ids
    assert len(set(dataset.advertiser_ids)) == 3
    plain = Dataset(SimConfig(campaigns=4, adgroups=10, topview_campaigns=0, promote_campaigns=0))
    assert len(plain.list_campaigns(plain.advertiser_ids[0])) == 4
    assert len(plain.list_adgroups(plain.advertiser_ids[0])) == 10


def test_deleted_campaigns_delete_their_ad_groups():
    dataset = Dataset(SimConfig(campaigns=10, adgroups=40))
    advertiser_id = dataset.advertiser_ids[0]
    deleted = {c.campaign_id for c in dataset.list_campaigns(advertiser_id) if c.deleted}
    assert deleted
    for ad_group in dataset.list_adgroups(advertiser_id):
        if ad_group.campaign_id in deleted:
            assert ad_group.deleted


def test_money_is_formatted_from_integers():
    assert format_cents(0) == "0.00"
    assert format_cents(1005) == "10.05"
    totals = Totals([0] * 19, 0)
    totals.counters[0], totals.counters[1], totals.counters[2] = 800, 21, 1234
    assert totals.metric("ctr") == "2.63"  # 2.625 rounds half up
    assert totals.metric("spend") == "12.34"
    assert totals.metric("cpc") == "0.59"
    assert totals.metric("cost_per_conversion") == "-"
    assert totals.metric("frequency") == "-"


def test_combine_sums_counters_and_caps_reach():
    a = Totals([10] + [0] * 18, 8)
    b = Totals([10] + [0] * 18, 9)
    both = combine([a, b])
    assert both.counters[0] == 20
    assert 9 <= both.reach < 17


def test_revise_validates():
    dataset = Dataset(SimConfig(end_date=date(2026, 11, 20)))
    with pytest.raises(KeyError):
        dataset.revise("nope", date(2026, 11, 20), 1.1)
    with pytest.raises(ValueError, match="negative"):
        dataset.revise(dataset.advertiser_ids[0], date(2026, 11, 20), -1)


def test_same_seed_same_numbers_other_seed_other_numbers():
    config = {"end_date": date(2026, 11, 20), "days": 10}
    first, second = Dataset(SimConfig(seed=1, **config)), Dataset(SimConfig(seed=1, **config))
    other = Dataset(SimConfig(seed=2, **config))
    day = date(2026, 11, 15)

    def spend(dataset):
        advertiser_id = dataset.advertiser_ids[0]
        return dataset.report_totals("AUCTION_ADVERTISER", advertiser_id, day, day)["spend"]

    assert spend(first) == spend(second) != spend(other)
