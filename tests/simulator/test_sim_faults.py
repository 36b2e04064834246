"""Every fault switch, through the Python API and the /_sim/faults JSON interface."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
import requests

REPORT = "/report/integrated/get/"


def _campaigns(api, advertiser_id, **kwargs):
    return api.get("/campaign/get/", advertiser_id=advertiser_id, **kwargs)


def test_rate_limit_for_the_next_n_calls(sim, api, advertiser_id):
    sim.faults.rate_limit(2)
    codes = [_campaigns(api, advertiser_id).json()["code"] for _ in range(3)]
    assert codes == [40100, 40100, 0]
    assert sim.stats.count(outcome=40100) == 2


def test_advertiser_rate_limit_code(sim, api, advertiser_id):
    sim.faults.rate_limit(1, code=40133)
    response = _campaigns(api, advertiser_id)
    assert response.status_code == 200
    assert response.json()["code"] == 40133


def test_fault_endpoint_filter(sim, api, advertiser_id):
    sim.faults.rate_limit(1, endpoint=REPORT)
    assert _campaigns(api, advertiser_id).json()["code"] == 0
    report = api.report(advertiser_id, "AUCTION_CAMPAIGN")
    assert report["code"] == 40100


@pytest.mark.parametrize("status", [429, 500, 503, 504])
def test_http_errors(sim, api, advertiser_id, status):
    sim.faults.http_error(status, n=1)
    response = _campaigns(api, advertiser_id)
    assert response.status_code == status
    if status == 429:
        assert response.headers["Retry-After"]
    assert _campaigns(api, advertiser_id).status_code == 200
    assert sim.stats.count(outcome=f"http_{status}") == 1


def test_slow_response_goes_past_the_client_timeout(sim, api, advertiser_id):
    sim.faults.slow(1, seconds=1.0)
    with pytest.raises(requests.exceptions.ReadTimeout):
        _campaigns(api, advertiser_id, timeout=0.3)
    assert _campaigns(api, advertiser_id, timeout=2).json()["code"] == 0


@pytest.mark.parametrize("kind", ["truncated", "html", "not_json"])
def test_malformed_bodies(sim, api, advertiser_id, kind):
    sim.faults.malformed(1, kind=kind)
    response = _campaigns(api, advertiser_id)
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)
    if kind == "html":
        assert response.headers["Content-Type"].startswith("text/html")
    if kind == "truncated":
        assert response.text.startswith('{"code":0')
    assert _campaigns(api, advertiser_id).json()["code"] == 0


def test_malformed_disconnect_drops_the_connection_mid_body(sim, api, advertiser_id):
    sim.faults.malformed(1, kind="disconnect")
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        _campaigns(api, advertiser_id)
    assert _campaigns(api, advertiser_id).json()["code"] == 0


def test_api_error_50002(sim, api, advertiser_id):
    sim.faults.api_error(50002, n=2)
    bodies = [_campaigns(api, advertiser_id).json() for _ in range(3)]
    assert [b["code"] for b in bodies] == [50002, 50002, 0]
    assert bodies[0]["request_id"]


def test_token_expiry_now(sim, api, advertiser_id):
    sim.faults.expire_access_tokens()
    body = _campaigns(api, advertiser_id).json()
    assert body["code"] == 40105
    assert "expired" in body["message"]
    sim.faults.clear()
    assert _campaigns(api, advertiser_id).json()["code"] == 0


def test_token_expiry_at_a_given_moment(sim, api, advertiser_id):
    sim.faults.expire_access_tokens(at=datetime.now(timezone.utc) + timedelta(seconds=0.5))
    assert _campaigns(api, advertiser_id).json()["code"] == 0
    time.sleep(0.6)
    assert _campaigns(api, advertiser_id).json()["code"] == 40105


def test_revoked_token(sim, api, advertiser_id):
    sim.faults.revoke_token(sim.config.access_token)
    assert _campaigns(api, advertiser_id).json()["code"] == 40105


def test_latency_sleeps_per_request_not_per_server(sim, api, advertiser_id):
    sim.faults.latency_ms = 300
    started = time.monotonic()
    assert _campaigns(api, advertiser_id).json()["code"] == 0
    assert time.monotonic() - started >= 0.3

    def call(_):
        return requests.get(
            sim.api_url + "/campaign/get/",
            params={"advertiser_id": advertiser_id},
            headers={"Access-Token": sim.config.access_token},
            timeout=5,
        ).json()["code"]

    started = time.monotonic()
    with ThreadPoolExecutor(10) as pool:
        codes = list(pool.map(call, range(10)))
    assert codes == [0] * 10
    assert time.monotonic() - started < 1.5  # 10 x 300 ms in parallel, not in series


def test_config_latency(make_sim, client_for):
    sim = make_sim(latency_ms=150)
    started = time.monotonic()
    client_for(sim).data("/campaign/get/", advertiser_id=sim.dataset.advertiser_ids[0])
    assert time.monotonic() - started >= 0.15


def test_faults_are_consumed_in_order(sim, api, advertiser_id):
    sim.faults.http_error(503)
    sim.faults.rate_limit(1)
    assert _campaigns(api, advertiser_id).status_code == 503
    assert _campaigns(api, advertiser_id).json()["code"] == 40100
    assert _campaigns(api, advertiser_id).json()["code"] == 0


def test_invalid_fault_arguments(sim):
    with pytest.raises(ValueError, match="status"):
        sim.faults.http_error(418)
    with pytest.raises(ValueError, match="kind"):
        sim.faults.malformed(kind="weird")
    with pytest.raises(ValueError, match="at least 1"):
        sim.faults.rate_limit(0)


# ----- JSON admin interface -------------------------------------------------------------


def _admin(sim, method, action, payload=None):
    response = requests.request(method, f"{sim.base_url}/_sim/{action}", json=payload, timeout=5)
    return response.status_code, response.json()


def test_faults_over_http(sim, api, advertiser_id):
    status, body = _admin(
        sim,
        "POST",
        "faults",
        [
            {"fault": "rate_limit", "n": 1, "code": 40133, "endpoint": REPORT},
            {"fault": "http_error", "status": 504, "n": 1},
            {"fault": "malformed", "n": 1, "kind": "html"},
        ],
    )
    assert status == 200
    assert [f["kind"] for f in body["armed"]] == ["rate_limit", "http_error", "malformed"]
    assert _campaigns(api, advertiser_id).status_code == 504
    assert api.report(advertiser_id, "AUCTION_CAMPAIGN")["code"] == 40133
    assert _campaigns(api, advertiser_id).headers["Content-Type"].startswith("text/html")
    _admin(sim, "POST", "faults", {"fault": "api_error", "code": 50002})
    assert _campaigns(api, advertiser_id).json()["code"] == 50002
    _admin(sim, "POST", "faults", {"fault": "latency", "ms": 120})
    assert sim.faults.latency_ms == 120
    _admin(sim, "POST", "faults", {"fault": "expire_access_tokens", "at": None})
    assert _campaigns(api, advertiser_id).json()["code"] == 40105


def test_slow_fault_over_http(sim, api, advertiser_id):
    _admin(sim, "POST", "faults", {"fault": "slow", "n": 1, "seconds": 1})
    with pytest.raises(requests.exceptions.ReadTimeout):
        _campaigns(api, advertiser_id, timeout=0.3)


def test_bad_fault_json_is_400(sim):
    status, body = _admin(sim, "POST", "faults", {"fault": "explode"})
    assert status == 400
    assert "explode" in body["error"]
    assert _admin(sim, "POST", "faults", {"fault": "http_error", "status": 200})[0] == 400


def test_reset_clears_faults_and_stats(sim, api, advertiser_id):
    sim.faults.rate_limit(5)
    sim.faults.latency_ms = 50
    _campaigns(api, advertiser_id)
    status, _ = _admin(sim, "POST", "reset")
    assert status == 200
    assert sim.stats.total == 0
    assert sim.faults.latency_ms == 0
    assert _campaigns(api, advertiser_id).json()["code"] == 0
