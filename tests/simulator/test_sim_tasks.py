"""Async report tasks (report/task/create, check, download), their own per-app limit, and the
totals of synchronous reports (enable_total_metrics, drop_rows fault)."""

from __future__ import annotations

import csv
import io
import json
import time
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import requests

from tests.simulator.conftest import REPORT, ApiClient

CREATE, CHECK, DOWNLOAD = "/report/task/create/", "/report/task/check/", "/report/task/download/"
FAST = {"async_qps_limit": None, "async_task_seconds": 0.3}


def create(sim, advertiser_id: str, **fields: Any) -> dict[str, Any]:
    body = {
        "advertiser_id": advertiser_id,
        "report_type": "BASIC",
        "data_level": "AUCTION_CAMPAIGN",
        "dimensions": ["campaign_id", "stat_time_day"],
        "metrics": ["campaign_name", "spend", "impressions", "reach"],
        "start_date": "2026-06-01",
        "end_date": "2026-11-20",
        "enable_report_title_translation": False,
    } | fields
    response = requests.post(
        sim.api_url + CREATE, json=body, headers={"Access-Token": sim.access_token}, timeout=10
    )
    assert response.status_code == 200
    return dict(response.json())


def wait_done(api: ApiClient, advertiser_id: str, task_id: str) -> list[str]:
    seen = []
    for _ in range(50):
        status = api.data(CHECK, advertiser_id=advertiser_id, task_id=task_id)["status"]
        seen.append(status)
        if status == "SUCCESS":
            return seen
        time.sleep(0.05)
    raise AssertionError(seen)


def test_a_task_queues_then_succeeds_and_its_file_holds_every_row(make_sim):
    sim = make_sim(days=200, **FAST)
    api = ApiClient(sim)
    advertiser_id = sim.dataset.advertiser_ids[0]
    ids = [c.campaign_id for c in sim.dataset.list_campaigns(advertiser_id, include_deleted=True)]
    created = create(
        sim,
        advertiser_id,
        filtering=[
            {"field_name": "campaign_ids", "filter_type": "IN", "filter_value": json.dumps(ids)}
        ],
    )
    assert created["code"] == 0
    task_id = created["data"]["task_id"]
    early = api.body(DOWNLOAD, advertiser_id=advertiser_id, task_id=task_id)
    assert early["code"] == 40201  # not ready: retriable
    statuses = wait_done(api, advertiser_id, task_id)
    assert statuses[0] in ("QUEUING", "PROCESSING")
    response = api.get(DOWNLOAD, advertiser_id=advertiser_id, task_id=task_id)
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    # No 30-day limit and no pages: 173 days in one file, deleted campaigns included.
    start, end = date(2026, 6, 1), date(2026, 11, 20)
    assert len(rows) == sim.dataset.report_row_count(
        "AUCTION_CAMPAIGN", advertiser_id, start, end, include_deleted=True
    )
    expected = sim.dataset.report_totals("AUCTION_CAMPAIGN", advertiser_id, start, end, True)
    assert sum(Decimal(r["spend"]) for r in rows) == expected["spend"]
    assert sum(int(r["impressions"]) for r in rows) == expected["impressions"]
    assert list(rows[0]) == [
        "campaign_id",
        "stat_time_day",
        "campaign_name",
        "spend",
        "impressions",
        "reach",
    ]
    assert rows[0]["stat_time_day"].endswith(" 00:00:00")


def test_titles_are_translated_unless_asked_not_to_and_links_download(make_sim):
    sim = make_sim(**FAST)
    api = ApiClient(sim)
    advertiser_id = sim.dataset.advertiser_ids[0]
    task_id = create(
        sim,
        advertiser_id,
        start_date="2026-11-01",
        enable_report_title_translation=True,
        output_format="CSV_DOWNLOAD",
    )["data"]["task_id"]
    wait_done(api, advertiser_id, task_id)
    data = api.data(DOWNLOAD, advertiser_id=advertiser_id, task_id=task_id)
    assert data["output_format"] == "CSV_DOWNLOAD"
    file = requests.get(data["download_url"], timeout=10)
    assert file.text.splitlines()[0] == "Campaign ID,By Day,Campaign Name,Cost,Impression,Reach"


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        (
            {"filtering": [{"field_name": "campaign_status", "filter_value": '["STATUS_ALL"]'}]},
            "campaign_status",
        ),
        (
            {
                "filtering": [
                    {
                        "field_name": "campaign_ids",
                        "filter_type": "IN",
                        "filter_value": json.dumps([str(i) for i in range(20_001)]),
                    }
                ]
            },
            "20000",
        ),
        ({"metrics": ["conversions"]}, "conversions"),
        ({"output_format": "PDF"}, "output_format"),
    ],
)
def test_what_async_reports_reject_is_40002_naming_it(make_sim, fields, named):
    sim = make_sim(**FAST)
    body = create(sim, sim.dataset.advertiser_ids[0], **fields)
    assert body["code"] == 40002
    assert named in body["message"]


def test_a_task_belongs_to_its_advertiser(make_sim):
    sim = make_sim(**FAST)
    api = ApiClient(sim)
    first, second = sim.dataset.advertiser_ids[:2]
    task_id = create(sim, first)["data"]["task_id"]
    assert api.body(CHECK, advertiser_id=second, task_id=task_id)["code"] == 40007


@pytest.mark.parametrize("armed_over_http", [False, True])
def test_a_failed_task_stays_failed_with_its_message_and_cannot_be_downloaded(
    make_sim, armed_over_http
):
    sim = make_sim(**FAST)
    api = ApiClient(sim)
    advertiser_id = sim.dataset.advertiser_ids[0]
    task_id = create(sim, advertiser_id)["data"]["task_id"]
    assert api.data(CHECK, advertiser_id=advertiser_id, task_id=task_id)["status"] != "FAILED"
    if armed_over_http:
        spec = {"fault": "fail_async_task", "message": "disk full"}
        armed = requests.post(f"{sim.base_url}/_sim/faults", json=spec, timeout=10)
        assert armed.status_code == 200
    else:
        sim.faults.fail_async_task(message="disk full")
    for _ in range(2):  # armed for one check; the task stays failed
        data = api.data(CHECK, advertiser_id=advertiser_id, task_id=task_id)
        assert (data["status"], data["message"]) == ("FAILED", "disk full")
    time.sleep(FAST["async_task_seconds"])  # past the time it would have succeeded
    assert api.data(CHECK, advertiser_id=advertiser_id, task_id=task_id)["status"] == "FAILED"
    assert api.body(DOWNLOAD, advertiser_id=advertiser_id, task_id=task_id)["code"] == 40201
    other = create(sim, advertiser_id)["data"]["task_id"]  # the fault is used up
    assert wait_done(api, advertiser_id, other)[-1] == "SUCCESS"


def test_the_async_endpoints_allow_three_calls_in_ten_seconds(make_sim):
    sim = make_sim(async_task_seconds=0.3)  # async_qps_limit: TikTok's 0.3 per second
    api = ApiClient(sim)
    advertiser_id = sim.dataset.advertiser_ids[0]
    task_id = create(sim, advertiser_id)["data"]["task_id"]
    assert api.body(CHECK, advertiser_id=advertiser_id, task_id=task_id)["code"] == 0
    assert api.body(CHECK, advertiser_id=advertiser_id, task_id=task_id)["code"] == 0
    refused = api.body(CHECK, advertiser_id=advertiser_id, task_id=task_id)
    assert refused["code"] == 40100
    assert "QPS limit 0.3" in refused["message"]
    # Synchronous reports are not held back by it.
    assert api.report(advertiser_id, "AUCTION_CAMPAIGN")["code"] == 0
    assert [r.fault for r in sim.stats.requests(CHECK)] == ["", "", "async_qps"]


def test_total_metrics_cover_every_page_and_dropped_rows_leave_them_unchanged(
    api, advertiser_id, sim
):
    rows = api.report_rows(advertiser_id, "AUCTION_ADGROUP", page_size=50)
    first = api.report(advertiser_id, "AUCTION_ADGROUP", page_size=50, enable_total_metrics=True)
    totals = first["data"]["total_metrics"]
    assert Decimal(totals["spend"]) == sum(Decimal(r["metrics"]["spend"]) for r in rows)
    assert int(totals["clicks"]) == sum(int(r["metrics"]["clicks"]) for r in rows)

    sim.faults.drop_rows(n=1, endpoint=REPORT)
    short = api.report(advertiser_id, "AUCTION_ADGROUP", page_size=50, enable_total_metrics=True)
    assert len(short["data"]["list"]) == len(first["data"]["list"]) - 1
    assert short["data"]["page_info"] == first["data"]["page_info"]
    assert short["data"]["total_metrics"] == totals


def test_an_app_without_async_reports_gets_40001(make_sim):
    sim = make_sim(async_reports_allowed=False, **FAST)
    body = create(sim, sim.dataset.advertiser_ids[0])
    assert body["code"] == 40001
    assert "asynchronous reports" in body["message"]
