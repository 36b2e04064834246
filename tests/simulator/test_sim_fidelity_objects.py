"""Issue 14 over HTTP: TopView and Promote objects hidden unless asked, the deleted filter each
entity endpoint documents, report filter operators."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

STRICT = {"hide_special_campaigns": True, "documented_filters_only": True}
TOP_VIEW = "RESERVATION_TOP_VIEW"
EVERY_BUYING_TYPE = '["AUCTION","RESERVATION_RF","RESERVATION_TOP_VIEW"]'
EVERY_ORIGIN = '["TT_ADS_PLATFORM","PROMOTE"]'


@pytest.fixture
def strict(make_sim):
    return make_sim(campaigns=4, adgroups=8, **STRICT)


def _campaigns(api, advertiser_id, **filtering):
    body = api.body("/campaign/get/", advertiser_id=advertiser_id, filtering=filtering)
    return body if body["code"] else body["data"]["list"]


def test_campaign_get_hides_topview_and_promote_unless_asked(strict, client_for):
    api = client_for(strict)
    advertiser_id = strict.dataset.advertiser_ids[0]
    campaigns = {c.campaign_id: c for c in strict.dataset.campaigns[advertiser_id]}
    default = _campaigns(api, advertiser_id)
    assert default
    assert not any(campaigns[c["campaign_id"]].special for c in default)
    top_view = _campaigns(api, advertiser_id, buying_types=[TOP_VIEW])
    assert [c["campaign_name"] for c in top_view] == ["TopView 1"]
    promote = _campaigns(api, advertiser_id, campaign_system_origins=["PROMOTE"])
    assert [c["campaign_system_origin"] for c in promote] == ["PROMOTE"]
    # Promote campaigns return only the settings the docs list.
    assert set(promote[0]) <= {
        "advertiser_id",
        "campaign_id",
        "create_time",
        "campaign_name",
        "operation_status",
        "secondary_status",
        "campaign_system_origin",
    }
    both = _campaigns(api, advertiser_id, campaign_system_origins=["TT_ADS_PLATFORM", "PROMOTE"])
    assert len(both) == len(default) + 1
    mixed = _campaigns(api, advertiser_id, buying_types=["AUCTION", TOP_VIEW])
    assert mixed["code"] == 40002
    assert "RESERVATION_TOP_VIEW cannot be combined" in mixed["message"]


def test_adgroup_get_hides_them_too_and_limits_topview_pages(strict, client_for):
    api = client_for(strict)
    advertiser_id = strict.dataset.advertiser_ids[0]
    ad_groups = strict.dataset.adgroups[advertiser_id]
    listed = api.data(
        "/adgroup/get/",
        advertiser_id=advertiser_id,
        page_size=1000,
        filtering={"primary_status": "STATUS_ALL"},
    )["list"]
    assert len(listed) == len(ad_groups) - 2
    top_view = {"buying_types": [TOP_VIEW], "primary_status": "STATUS_ALL"}
    too_big = api.body(
        "/adgroup/get/", advertiser_id=advertiser_id, page_size=1000, filtering=top_view
    )
    assert too_big["code"] == 40002
    page = api.data("/adgroup/get/", advertiser_id=advertiser_id, page_size=100, filtering=top_view)
    assert len(page["list"]) == 1
    promote = api.data(
        "/adgroup/get/",
        advertiser_id=advertiser_id,
        filtering={"campaign_system_origins": ["PROMOTE"]},
    )["list"]
    assert len(promote) == 1
    assert "budget_mode" not in promote[0]  # not among the settings Promote ad groups return


def test_deleted_campaigns_use_the_forms_campaign_get_documents(strict, client_for):
    api = client_for(strict)
    advertiser_id = strict.dataset.advertiser_ids[0]
    deleted = {c.campaign_id for c in strict.dataset.campaigns[advertiser_id] if c.deleted}
    assert deleted
    status_all = _campaigns(api, advertiser_id, primary_status="STATUS_ALL")
    assert status_all["code"] == 40002
    assert "STATUS_DELETE" in status_all["message"]
    by_primary = _campaigns(api, advertiser_id, primary_status="STATUS_DELETE")
    by_secondary = _campaigns(api, advertiser_id, secondary_status="CAMPAIGN_STATUS_DELETE")
    assert {c["campaign_id"] for c in by_primary} == deleted
    assert {c["campaign_id"] for c in by_secondary} == deleted
    assert not deleted & {c["campaign_id"] for c in _campaigns(api, advertiser_id)}
    unknown = _campaigns(api, advertiser_id, status="CAMPAIGN_STATUS_ALL")
    assert unknown["code"] == 40002


def _spend(api, advertiser_id, *filters):
    rows = api.report_rows(
        advertiser_id,
        "AUCTION_CAMPAIGN",
        filtering=[
            {
                "field_name": "campaign_status",
                "filter_type": "IN",
                "filter_value": '["STATUS_ALL"]',
            },
            *filters,
        ],
    )
    return sum(Decimal(r["metrics"]["spend"]) for r in rows), {
        r["dimensions"]["campaign_id"] for r in rows
    }


def test_reports_need_the_documented_filters_for_topview_and_promote_rows(strict, client_for):
    api = client_for(strict)
    advertiser_id = strict.dataset.advertiser_ids[0]
    campaigns = strict.dataset.campaigns[advertiser_id]
    truth = strict.dataset.report_totals(
        "AUCTION_CAMPAIGN", advertiser_id, date(2026, 11, 1), date(2026, 11, 20)
    )
    default, default_ids = _spend(api, advertiser_id)
    assert default_ids == {c.campaign_id for c in campaigns if not c.special}
    buying = {"field_name": "buying_type", "filter_type": "IN"}
    origins = {"field_name": "campaign_system_origins", "filter_type": "IN"}
    top_view, top_view_ids = _spend(
        api, advertiser_id, buying | {"filter_value": f'["{TOP_VIEW}"]'}
    )
    promote, promote_ids = _spend(api, advertiser_id, origins | {"filter_value": '["PROMOTE"]'})
    assert len(top_view_ids) == len(promote_ids) == 1
    assert default + top_view + promote == truth["spend"]
    every, every_ids = _spend(
        api,
        advertiser_id,
        buying | {"filter_value": EVERY_BUYING_TYPE},
        origins | {"filter_value": EVERY_ORIGIN},
    )
    assert every == truth["spend"]
    assert every_ids == {c.campaign_id for c in campaigns}


def test_hiding_switched_off_shows_everything_by_default(make_sim, client_for):
    sim = make_sim(campaigns=4, adgroups=8, hide_special_campaigns=False)
    api = client_for(sim)
    advertiser_id = sim.dataset.advertiser_ids[0]
    assert len(_campaigns(api, advertiser_id)) == 5  # 3 not deleted + TopView + Promote
    _, ids = _spend(api, advertiser_id)
    assert ids == {c.campaign_id for c in sim.dataset.campaigns[advertiser_id]}


def _filtered_ids(api, advertiser_id, *filters):
    rows = api.report_rows(
        advertiser_id,
        "AUCTION_ADGROUP",
        filtering=[
            {"field_name": "adgroup_status", "filter_type": "IN", "filter_value": '["STATUS_ALL"]'},
            *filters,
        ],
        end_date="2026-11-01",
    )
    return {r["dimensions"]["adgroup_id"] for r in rows}


def test_report_filter_operators_beyond_in(api, sim, advertiser_id):
    ad_groups = sim.dataset.adgroups[advertiser_id]
    every = {g.adgroup_id for g in ad_groups}
    first, second = ad_groups[0], ad_groups[1]

    def ids(field, op, value):
        return _filtered_ids(
            api,
            advertiser_id,
            {"field_name": field, "filter_type": op, "filter_value": value},
        )

    assert ids("adgroup_ids", "NOT_IN", f'["{first.adgroup_id}"]') == every - {first.adgroup_id}
    assert ids("adgroup_name", "MATCH", first.adgroup_name) == {first.adgroup_id}
    assert ids("campaign_name", "CONTAIN_ANY_OF", '["topview","promote"]') == {
        g.adgroup_id for g in ad_groups if sim.dataset.campaign(g.campaign_id).special
    }
    times = sorted(g.create_time for g in ad_groups)
    later = {g.adgroup_id for g in ad_groups if g.create_time >= times[-3]}
    assert ids("create_time", "GREATER_EQUAL", times[-3]) == later
    assert ids("create_time", "LOWER_THAN", times[0]) == set()
    between = ids("create_time", "BETWEEN", f'["{first.create_time}","{second.create_time}"]')
    assert {first.adgroup_id, second.adgroup_id} <= between
    bad = api.report(
        advertiser_id,
        "AUCTION_ADGROUP",
        filtering=[
            {"field_name": "create_time", "filter_type": "BETWEEN", "filter_value": '["x"]'}
        ],
    )
    assert bad["code"] == 40002
    unknown = api.report(
        advertiser_id,
        "AUCTION_ADGROUP",
        filtering=[{"field_name": "adgroup_ids", "filter_type": "LIKE", "filter_value": "1"}],
    )
    assert unknown["code"] == 40002
    assert "LIKE" in unknown["message"]
