"""Envelope, authentication and the entity endpoints."""

from __future__ import annotations

import json

import requests


def test_envelope_has_code_message_request_id_and_data(api, advertiser_id):
    body = api.body("/campaign/get/", advertiser_id=advertiser_id)
    assert list(body) == ["code", "message", "request_id", "data"]
    assert body["code"] == 0
    assert isinstance(body["message"], str)
    other = api.body("/campaign/get/", advertiser_id=advertiser_id)
    assert body["request_id"] != other["request_id"]


def test_errors_arrive_with_http_200_and_a_body_code(api):
    response = api.get("/campaign/get/")  # advertiser_id missing
    assert response.status_code == 200
    body = response.json()
    assert body["code"] == 40002
    assert "advertiser_id" in body["message"]
    assert body["data"] == {}
    assert body["request_id"]


def test_missing_token_is_40104_and_wrong_token_is_40105(sim, client_for, advertiser_id):
    assert (
        client_for(sim, token="").body("/campaign/get/", advertiser_id=advertiser_id)["code"]
        == 40104
    )
    assert (
        client_for(sim, token="nope").body("/campaign/get/", advertiser_id=advertiser_id)["code"]
        == 40105
    )


def test_bearer_header_is_not_an_access_token(sim, advertiser_id):
    response = requests.get(
        sim.api_url + "/campaign/get/",
        params={"advertiser_id": advertiser_id},
        headers={"Authorization": f"Bearer {sim.config.access_token}"},
        timeout=5,
    )
    assert response.json()["code"] == 40104


def test_advertiser_info_gives_currency_and_time_zone_per_advertiser(api, sim):
    ids = sim.dataset.advertiser_ids
    rows = api.data("/advertiser/info/", advertiser_ids=ids)["list"]
    assert [r["advertiser_id"] for r in rows] == ids
    assert len({r["currency"] for r in rows}) == 2
    assert len({r["timezone"] for r in rows}) == 2
    for row, expected in zip(rows, sim.dataset.advertisers, strict=True):
        assert row["currency"] == expected.currency
        assert row["timezone"] == expected.timezone
        assert row["status"] == "STATUS_ENABLE"
        assert isinstance(row["create_time"], int)
        assert len(row["advertiser_id"]) == 19


def test_advertiser_info_field_selection(api, sim):
    rows = api.data(
        "/advertiser/info/", advertiser_ids=sim.dataset.advertiser_ids, fields=["name", "currency"]
    )["list"]
    assert all(set(r) == {"name", "currency"} for r in rows)


def test_advertiser_info_rejects_more_than_100_ids(api, sim):
    ids = sim.dataset.advertiser_ids * 51
    assert api.body("/advertiser/info/", advertiser_ids=ids)["code"] == 40002


def test_advertiser_info_needs_a_json_array(api, sim):
    body = api.body("/advertiser/info/", advertiser_ids=sim.dataset.advertiser_ids[0])
    assert body["code"] == 40002


def test_unauthorized_advertiser_is_40001(api):
    assert api.body("/advertiser/info/", advertiser_ids=["1234567890123456789"])["code"] == 40001
    assert api.body("/campaign/get/", advertiser_id="1234567890123456789")["code"] == 40001


def test_campaigns_hide_deleted_unless_status_all(api, sim, advertiser_id):
    expected = sim.dataset.list_campaigns(advertiser_id)
    deleted = {c.campaign_id for c in expected if c.deleted}
    assert deleted, "the dataset must contain deleted campaigns"
    default = api.data("/campaign/get/", advertiser_id=advertiser_id, page_size=1000)["list"]
    assert not deleted & {c["campaign_id"] for c in default}
    every = api.data(
        "/campaign/get/",
        advertiser_id=advertiser_id,
        page_size=1000,
        filtering={"primary_status": "STATUS_ALL"},
    )["list"]
    assert {c["campaign_id"] for c in every} == {c.campaign_id for c in expected}
    statuses = {c["campaign_id"]: c["secondary_status"] for c in every}
    assert all(statuses[i] == "CAMPAIGN_STATUS_DELETE" for i in deleted)


def test_campaign_fields_and_types(api, advertiser_id):
    row = api.data("/campaign/get/", advertiser_id=advertiser_id)["list"][0]
    assert set(row) >= {
        "campaign_id",
        "campaign_name",
        "objective_type",
        "operation_status",
        "secondary_status",
        "budget",
        "budget_mode",
        "create_time",
        "modify_time",
        "advertiser_id",
    }
    assert isinstance(row["budget"], float)
    assert len(row["create_time"]) == len("2026-01-01 00:00:00")
    picked = api.data("/campaign/get/", advertiser_id=advertiser_id, fields=["campaign_id"])
    assert set(picked["list"][0]) == {"campaign_id"}
    assert api.body("/campaign/get/", advertiser_id=advertiser_id, fields=["nope"])["code"] == 40002


def test_adgroups_paginate_and_filter_deleted(api, sim, advertiser_id):
    everything = sim.dataset.list_adgroups(advertiser_id)
    visible = [g for g in everything if not g.deleted]
    seen = []
    page = 1
    while True:
        data = api.data("/adgroup/get/", advertiser_id=advertiser_id, page=page, page_size=3)
        seen += data["list"]
        info = data["page_info"]
        assert info["total_number"] == len(visible)
        assert info["total_page"] == -(-len(visible) // 3)
        if page >= info["total_page"]:
            break
        page += 1
    assert [g["adgroup_id"] for g in seen] == [g.adgroup_id for g in visible]
    every = api.data(
        "/adgroup/get/",
        advertiser_id=advertiser_id,
        page_size=1000,
        filtering={"primary_status": "STATUS_ALL"},
    )["list"]
    assert len(every) == len(everything)
    deleted = [g for g in every if g["secondary_status"] == "ADGROUP_STATUS_DELETE"]
    assert len(deleted) == sum(g.deleted for g in everything) > 0
    assert {"adgroup_id", "campaign_id", "adgroup_name", "budget"} <= set(every[0])


def test_entity_page_size_limits(api, advertiser_id):
    assert api.body("/campaign/get/", advertiser_id=advertiser_id, page_size=1001)["code"] == 40002
    assert api.body("/adgroup/get/", advertiser_id=advertiser_id, page_size=0)["code"] == 40002
    default = api.data("/adgroup/get/", advertiser_id=advertiser_id)
    assert default["page_info"]["page_size"] == 10
    assert len(default["list"]) == 10


def test_unknown_endpoint_is_404(api):
    assert api.get("/ad/nothing/").status_code == 404


def test_query_arrays_must_be_json(api, advertiser_id):
    body = api.body("/campaign/get/", advertiser_id=advertiser_id, fields="campaign_id,")
    assert body["code"] == 40002
    assert json.dumps(body)  # still a proper envelope
