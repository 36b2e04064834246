"""Bad settings stop the tap before any request, with one line naming the setting."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

GOOD = {
    "access_token": "tok-abcdef-123",
    "start_date": "2026-01-01",
    "advertiser_ids": ["1001"],
    "api_url": "http://127.0.0.1:9/open_api/v1.3",
}


def run_cli(tmp_path, config):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return subprocess.run(
        [sys.executable, "-m", "tap_tiktok_ads", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("change", "names"),
    [
        ({"access_token": None}, "access_token"),
        ({"start_date": None}, "start_date"),
        ({"start_date": "01/02/2026"}, "start_date"),
        ({"end_date": "2025-12-01"}, "end_date"),
        ({"page_size": 0}, "page_size"),
        ({"page_size": 5000}, "page_size"),
        ({"lookback_days": -1}, "lookback_days"),
        ({"max_requests_per_second": "fast"}, "max_requests_per_second"),
        ({"max_requests_per_second": 0}, "max_requests_per_second"),
        ({"api_url": "ftp://example.com"}, "api_url"),
        ({"api_url": "business-api.tiktok.com"}, "api_url"),
        ({"advertiser_ids": ["not-an-id"]}, "advertiser_ids"),
        ({"advertiser_ids": "1001"}, "advertiser_ids"),
        ({"advertiser_ids": [], "app_id": None}, "advertiser_ids"),
        ({"refresh_token": "refresh-abc-1"}, "refresh_token"),
        ({"token_expires_at": "tomorrow"}, "token_expires_at"),
        ({"request_timeout": 0}, "request_timeout"),
        ({"include_deleted": "sometimes"}, "include_deleted"),
        ({"token_store_path": "/"}, "token_store_path"),
        ({"sandbox": True, "advertiser_ids": []}, "advertiser_ids"),
        ({"async_reports": "sometimes"}, "async_reports"),
        ({"async_reports": "auto", "include_deleted": False}, "async_reports"),
        ({"async_requests_per_second": 0}, "async_requests_per_second"),
        ({"reconcile_totals": "strict"}, "reconcile_totals"),
    ],
)
def test_bad_setting_names_the_setting_and_exits_nonzero(tmp_path, change, names):
    config = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    result = run_cli(tmp_path, config)
    assert result.returncode != 0
    errors = [
        line
        for line in result.stderr.splitlines()
        if "ERROR" in line and "Config validation failed" not in line
    ]
    assert errors, result.stderr
    assert any(names in line for line in errors), result.stderr
    assert "Traceback" not in result.stderr
    assert "tok-abcdef-123" not in result.stderr + result.stdout
    assert result.stdout == ""  # nothing emitted, nothing requested


def test_unreadable_token_store_is_named(tmp_path):
    store = tmp_path / "tokens.json"
    store.write_text("{not json")
    result = run_cli(tmp_path, {**GOOD, "token_store_path": str(store)})
    assert result.returncode != 0
    assert "token_store_path" in result.stderr
    assert "Traceback" not in result.stderr


# Issue 15 (items 7 and 8): text values as Meltano passes them (meltano.yml declares them
# `kind: string`), and the first error line is the whole story.
@pytest.mark.parametrize(
    ("change", "first_line"),
    [
        ({"include_deleted": "maybe"}, "include_deleted 'maybe' is not true or false"),
        ({"sandbox": "perhaps"}, "sandbox 'perhaps' is not true or false"),
        ({"page_size": "abc"}, "page_size 'abc' is not a whole number"),
        ({"lookback_days": "7.5"}, "lookback_days '7.5' is not a whole number"),
        ({"max_requests_per_second": "fast"}, "max_requests_per_second 'fast' is not a number"),
        ({"advertiser_ids": "1001,1002"}, """TAP_TIKTOK_ADS_ADVERTISER_IDS='["1001", "1002"]'"""),
        ({"advertiser_ids": '["1001"'}, "advertiser_ids '[\"1001\"' is not valid JSON"),
        ({"stream_map_config": {"data_source_id": ""}}, "set TAP_TIKTOK_ADS_DATA_SOURCE_ID"),
        ({"stream_map_config": {"data_source_id": "abc"}}, "data_source_id 'abc' is not a data"),
    ],
)
def test_unparsable_text_value_is_the_first_error_line(tmp_path, change, first_line):
    result = run_cli(tmp_path, {**GOOD, **change})
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if "ERROR" in line]
    assert errors, result.stderr
    assert first_line in errors[0], result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_text_values_that_parse_are_used_typed(tmp_path):
    from tap_tiktok_ads.tap import TapTikTokAds

    text = {"include_deleted": "false", "sandbox": "no", "page_size": "200"}
    tap = TapTikTokAds(
        config={**GOOD, **text, "max_requests_per_second": "2.5", "advertiser_ids": '["1001"]'}
    )
    assert tap.config["include_deleted"] is False
    assert tap.config["sandbox"] is False
    assert tap.config["page_size"] == 200
    assert tap.config["max_requests_per_second"] == 2.5
    assert tap.config["advertiser_ids"] == ["1001"]
    assert TapTikTokAds(config={**GOOD, "include_deleted": ""}).config["include_deleted"] is True


def test_a_token_store_with_another_token_says_it_wins(tmp_path, caplog):
    from tap_tiktok_ads.tap import TapTikTokAds

    store = tmp_path / "tokens.json"
    store.write_text(json.dumps({"access_token": "tok-stored-999", "advertiser_ids": ["1001"]}))
    with caplog.at_level("WARNING"):
        TapTikTokAds(config={**GOOD, "token_store_path": str(store)})
    (warning,) = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert "access_token is ignored" in warning
    assert str(store) in warning
    assert "tok-stored-999" not in warning
    assert "tok-abcdef-123" not in warning
