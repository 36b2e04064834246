"""Tokens, advertiser discovery and error classification."""

from __future__ import annotations

import json
import stat
from datetime import datetime, timedelta, timezone

import pytest
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError

from tap_tiktok_ads.auth import StoredTokens, TokenStore
from tests.tap.fake_api import API, TOKEN, FakeTikTok, envelope, run_tap

BASE = {"access_token": TOKEN, "advertiser_ids": ["1001"], "max_requests_per_second": 1000}
ONLY_INFO = ["advertiser_info"]


def test_discovery_sends_token_and_app_credentials(api: FakeTikTok):
    api.advertisers = {"1001": "UTC", "1002": "Europe/London"}
    result = run_tap(
        {
            "access_token": TOKEN,
            "app_id": "app-1",
            "app_secret": "secret-xyz-1",
            "start_date": "2026-03-01",
        },
        streams=ONLY_INFO,
    )
    discovery = [r for r in api.mocker.request_history if "/oauth2/advertiser/get/" in r.url]
    assert len(discovery) == 1
    assert discovery[0].headers["Access-Token"] == TOKEN
    assert discovery[0].qs == {"app_id": ["app-1"], "secret": ["secret-xyz-1"]}
    assert sorted(r["advertiser_id"] for r in result.records["advertiser_info"]) == ["1001", "1002"]


def test_advertiser_info_is_batched_by_100(api: FakeTikTok):
    ids = [str(1000 + n) for n in range(205)]
    api.advertisers = dict.fromkeys(ids, "UTC")
    result = run_tap({**BASE, "advertiser_ids": ids, "start_date": "2026-03-01"}, streams=ONLY_INFO)
    calls = [r for r in api.mocker.request_history if "/advertiser/info/" in r.url]
    assert [len(json.loads(c.qs["advertiser_ids"][0])) for c in calls] == [100, 100, 5]
    assert len(result.records["advertiser_info"]) == 205


def test_expiring_token_is_refreshed_before_the_first_call_and_persisted_first(
    api: FakeTikTok, tmp_path
):
    store_path = tmp_path / "tokens.json"
    order: list[str] = []

    def refresh(request, context):
        body = request.json()
        # Both the Marketing API spelling and the documented tt_user refresh spelling.
        assert body == {
            "app_id": "app-1",
            "secret": "secret-xyz-1",
            "client_id": "app-1",
            "client_secret": "secret-xyz-1",
            "refresh_token": "refresh-old-1",
            "grant_type": "refresh_token",
        }
        order.append("refresh")
        return envelope(  # the documented response shape
            {
                "access_token": "access-new-2",
                "expires_in": 86400,
                "refresh_token": "refresh-new-2",
                "refresh_token_expires_in": 31536000,
                "open_id": "open-1",
            }
        )

    api.mocker.post(f"{API}/oauth2/refresh_token/", json=refresh)
    original_save = TokenStore.save

    def recording_save(self, tokens):
        order.append("persist")
        original_save(self, tokens)

    api.mocker.real_http = False
    TokenStore.save = recording_save  # type: ignore[method-assign]
    try:
        run_tap(
            {
                **BASE,
                "start_date": "2026-03-01",
                "app_id": "app-1",
                "app_secret": "secret-xyz-1",
                "refresh_token": "refresh-old-1",
                "token_expires_at": (datetime.now(timezone.utc) + timedelta(minutes=1)).isoformat(),
                "token_store_path": str(store_path),
            },
            streams=ONLY_INFO,
        )
    finally:
        TokenStore.save = original_save  # type: ignore[method-assign]
    api_calls = [r for r in api.mocker.request_history if "/advertiser/info/" in r.url]
    assert api_calls[0].headers["Access-Token"] == "access-new-2"
    assert order == ["refresh", "persist"]
    saved = json.loads(store_path.read_text())
    assert saved["access_token"] == "access-new-2"
    assert saved["refresh_token"] == "refresh-new-2"
    expires = datetime.fromisoformat(saved["token_expires_at"])
    assert timedelta(hours=23) < expires - datetime.now(timezone.utc) <= timedelta(hours=24)
    assert stat.S_IMODE(store_path.stat().st_mode) == 0o600


def test_token_store_is_read_first(api: FakeTikTok, tmp_path):
    store = TokenStore(tmp_path / "tokens.json")
    store.save(StoredTokens(access_token="from-store-9", advertiser_ids=["1001"]))
    run_tap(
        {
            "access_token": "stale-config-token",
            "start_date": "2026-03-01",
            "token_store_path": str(store.path),
        },
        streams=ONLY_INFO,
    )
    assert api.mocker.request_history[0].headers["Access-Token"] == "from-store-9"


def test_40105_refreshes_once_then_retries(api: FakeTikTok, tmp_path):
    calls = {"n": 0}

    def info(request, context):
        calls["n"] += 1
        if request.headers["Access-Token"] == TOKEN:
            return envelope({}, code=40105, message="Access token is expired")
        return envelope({"list": [{"advertiser_id": "1001", "timezone": "UTC"}]})

    api.mocker.get(f"{API}/advertiser/info/", json=info)
    api.mocker.post(
        f"{API}/oauth2/refresh_token/",
        json=envelope({"access_token": "access-new-3", "refresh_token": "refresh-new-3"}),
    )
    result = run_tap(
        {
            **BASE,
            "start_date": "2026-03-01",
            "app_id": "a",
            "app_secret": "secret-xyz-1",
            "refresh_token": "refresh-old-1",
            "token_store_path": str(tmp_path / "t.json"),
        },
        streams=ONLY_INFO,
    )
    assert calls["n"] == 2
    assert len(result.records["advertiser_info"]) == 1


def test_40105_without_refresh_token_is_fatal_with_advice(api: FakeTikTok):
    api.mocker.get(
        f"{API}/advertiser/info/", json=envelope({}, code=40105, message="Access token is expired")
    )
    with pytest.raises(FatalAPIError, match=r"40105.*request_id req-test-1.*reconnect the account"):
        run_tap({**BASE, "start_date": "2026-03-01"}, streams=ONLY_INFO)


@pytest.mark.parametrize(
    "failure",
    [
        {"json": envelope({}, code=40100, message="Too many requests")},
        {"json": envelope({}, code=40133, message="Advertiser QPS")},
        {"json": envelope({}, code=50002, message="Internal")},
        {"status_code": 429, "text": "slow down"},
        {"status_code": 503, "text": "unavailable"},
        {"status_code": 504, "text": "gateway"},
        {"text": '{"code": 0, "data": {"li'},
    ],
)
def test_transient_failures_are_retried(api: FakeTikTok, failure):
    good = {"json": envelope({"list": [{"advertiser_id": "1001", "timezone": "UTC"}]})}
    api.mocker.get(f"{API}/advertiser/info/", [failure, failure, good])
    result = run_tap({**BASE, "start_date": "2026-03-01"}, streams=ONLY_INFO)
    assert len(result.records["advertiser_info"]) == 1
    assert len([r for r in api.mocker.request_history if "/advertiser/info/" in r.url]) == 3


def test_exhausted_retries_fail_loudly_with_request_id(api: FakeTikTok):
    api.mocker.get(
        f"{API}/advertiser/info/", json=envelope({}, code=40100, message="Too many requests")
    )
    with pytest.raises(RetriableAPIError, match=r"40100.*request_id req-test-1"):
        run_tap({**BASE, "start_date": "2026-03-01"}, streams=ONLY_INFO)
    assert len(api.mocker.request_history) == 8


@pytest.mark.parametrize(
    ("code", "advice"),
    [
        (40001, "no permission"),
        (40002, "parameter error"),
        (40007, "does not exist"),
        (40104, "no access token"),
    ],
)
def test_fatal_codes_are_not_retried(api: FakeTikTok, code, advice):
    api.mocker.get(
        f"{API}/advertiser/info/", json=envelope({}, code=code, message="field: metrics")
    )
    with pytest.raises(FatalAPIError, match=advice):
        run_tap({**BASE, "start_date": "2026-03-01"}, streams=ONLY_INFO)
    assert len(api.mocker.request_history) == 1


def test_secrets_never_reach_error_messages(api: FakeTikTok, caplog):
    api.advertisers = {}
    api.mocker.get(f"{API}/oauth2/advertiser/get/", status_code=500, text="oops")
    with pytest.raises(RetriableAPIError) as failure:
        run_tap(
            {
                "access_token": TOKEN,
                "app_id": "a",
                "app_secret": "secret-xyz-1",
                "start_date": "2026-03-01",
            },
            streams=ONLY_INFO,
        )
    assert "secret-xyz-1" not in str(failure.value)
    assert "secret-xyz-1" not in caplog.text
    assert TOKEN not in caplog.text
