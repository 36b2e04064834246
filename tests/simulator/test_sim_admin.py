"""Stats, request log, admin endpoints, revisions, determinism, the command line."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from datetime import date
from decimal import Decimal

import requests

REPORT = "/report/integrated/get/"


def test_counters_by_endpoint_and_outcome(sim, api, advertiser_id):
    api.get("/campaign/get/", advertiser_id=advertiser_id)
    api.get("/campaign/get/")
    api.report(advertiser_id, "AUCTION_CAMPAIGN")
    assert sim.stats.total == 3
    assert sim.stats.count(endpoint="/campaign/get/") == 2
    assert sim.stats.count(outcome="40002") == 1
    assert sim.stats.count(endpoint=REPORT, outcome=0) == 1
    snapshot = requests.get(sim.base_url + "/_sim/stats", timeout=5).json()
    assert snapshot["total"] == 3
    assert snapshot["by_endpoint"] == {"/campaign/get/": 2, REPORT: 1}
    assert snapshot["by_outcome"] == {"0": 2, "40002": 1}
    assert snapshot["by_endpoint_outcome"]["/campaign/get/"] == {"0": 1, "40002": 1}
    sim.stats.reset()
    assert sim.stats.total == 0


def test_request_log_masks_secrets(sim, api):
    api.get("/oauth2/advertiser/get/", app_id=sim.config.app_id, secret=sim.config.app_secret)
    requests.post(
        sim.api_url + "/oauth2/access_token/",
        json={"app_id": "a", "secret": "very-secret-value", "auth_code": "code-value-123"},
        timeout=5,
    )
    log = requests.get(sim.base_url + "/_sim/stats?log=1", timeout=5).json()["log"]
    text = json.dumps(log) + repr(sim.stats.requests())
    for secret in (
        sim.config.app_secret,
        sim.config.access_token,
        "very-secret-value",
        "code-value-123",
    ):
        assert secret not in text
    assert log[0]["endpoint"] == "/oauth2/advertiser/get/"
    assert log[0]["params"]["app_id"] == sim.config.app_id


def test_health_and_dataset_endpoints(sim):
    health = requests.get(sim.base_url + "/_sim/health", timeout=5).json()
    assert health["status"] == "ok"
    assert health["api_url"] == sim.api_url
    dataset = requests.get(sim.base_url + "/_sim/dataset", timeout=5).json()
    assert [a["advertiser_id"] for a in dataset["advertisers"]] == sim.dataset.advertiser_ids
    assert dataset["advertisers"][0]["last_day"] == "2026-11-20"
    assert sim.stats.total == 0  # admin calls are not counted


def test_revise_changes_one_day_only(sim, api, advertiser_id):
    def spend_by_day():
        rows = api.report_rows(advertiser_id, "AUCTION_ADVERTISER", dimensions=["stat_time_day"])
        return {r["dimensions"]["stat_time_day"][:10]: r["metrics"]["spend"] for r in rows}

    before = spend_by_day()
    response = requests.post(
        sim.base_url + "/_sim/revise",
        json={"advertiser_id": advertiser_id, "date": "2026-11-18", "factor": 1.5},
        timeout=5,
    )
    assert response.json() == {"ok": True}
    after = spend_by_day()
    changed = {day for day in before if before[day] != after[day]}
    assert changed == {"2026-11-18"}
    assert Decimal(after["2026-11-18"]) > Decimal(before["2026-11-18"])
    expected = sim.dataset.report_totals(
        "AUCTION_ADVERTISER", advertiser_id, date(2026, 11, 18), date(2026, 11, 18)
    )
    assert Decimal(after["2026-11-18"]) == expected["spend"]
    sim.dataset.revise(advertiser_id, date(2026, 11, 18), 1.0)
    assert spend_by_day() == before
    sim.dataset.revise(advertiser_id, date(2026, 11, 18), 2.0)
    requests.post(sim.base_url + "/_sim/reset", json={"revisions": True}, timeout=5)
    assert spend_by_day() == before


def _transcript(sim, client_for):
    """The raw bytes of a fixed sequence of calls."""
    api = client_for(sim)
    advertiser_id = sim.dataset.advertiser_ids[1]
    bodies = [
        api.get("/advertiser/info/", advertiser_ids=sim.dataset.advertiser_ids).content,
        api.get("/campaign/get/", advertiser_id=advertiser_id, page_size=100).content,
        api.get("/adgroup/get/", advertiser_id=advertiser_id, page_size=100).content,
        api.get("/report/integrated/get/", advertiser_id=advertiser_id, metrics=["spend"]).content,
    ]
    for level, dimension in (
        ("AUCTION_CAMPAIGN", "campaign_id"),
        ("AUCTION_ADGROUP", "adgroup_id"),
    ):
        bodies.append(
            api.get(
                "/report/integrated/get/",
                advertiser_id=advertiser_id,
                report_type="BASIC",
                data_level=level,
                dimensions=[dimension, "stat_time_day"],
                metrics=["spend", "impressions", "reach", "ctr", "cost_per_conversion"],
                start_date="2026-11-01",
                end_date="2026-11-20",
                page_size=1000,
            ).content
        )
    return bodies


def test_same_seed_and_size_give_byte_identical_responses(make_sim, client_for):
    first = _transcript(make_sim(seed=11), client_for)
    second = _transcript(make_sim(seed=11), client_for)
    assert first == second
    assert b'"request_id":"sim000000000001"' in first[0]
    other = _transcript(make_sim(seed=12), client_for)
    assert other[5] != first[5]


def test_command_line_starts_prints_url_and_stops_on_sigterm():
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tiktok_sim",
            "--port",
            "0",
            "--seed",
            "3",
            "--advertisers",
            "3",
            "--campaigns",
            "4",
            "--adgroups",
            "8",
            "--days",
            "10",
            "--end-date",
            "2026-11-20",
            "--latency-ms",
            "0",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        api_url = process.stdout.readline().strip()
        assert api_url.startswith("http://127.0.0.1:")
        assert api_url.endswith("/open_api/v1.3")
        base_url = api_url.removesuffix("/open_api/v1.3")
        dataset = requests.get(base_url + "/_sim/dataset", timeout=5).json()
        assert len(dataset["advertisers"]) == 3
        assert dataset["advertisers"][0]["first_day"] == "2026-11-11"
        body = requests.get(
            api_url + "/campaign/get/",
            params={"advertiser_id": dataset["advertisers"][2]["advertiser_id"]},
            headers={"Access-Token": "sim-access-token"},
            timeout=5,
        ).json()
        assert body["code"] == 0
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
