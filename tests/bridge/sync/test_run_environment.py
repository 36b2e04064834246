"""One run's environment: the data source's own settings only, secrets never in argv."""

from __future__ import annotations

import json
from pathlib import Path

from dra_tiktok_ads.details import ConnectionDetails
from dra_tiktok_ads.sync.meltano_run import meltano_command
from dra_tiktok_ads.sync.run_environment import pipeline_env, redact_message
from dra_tiktok_ads.sync.settings import RunnerSettings

KEY = "ab" * 32


def test_messages_are_redacted() -> None:
    message = redact_message(
        "failed with secret-token-123 and refresh_token=abcdef", {"secret-token-123"}
    )
    assert "secret-token-123" not in message
    assert "abcdef" not in message


def test_pipeline_env_carries_the_data_sources_own_settings_only(tmp_path: Path) -> None:
    settings = RunnerSettings(
        key_hex=KEY,
        project_dir=tmp_path,
        meltano="/venv/bin/meltano",
        log_dir=tmp_path / "logs",
        base_env={
            "PATH": "/usr/bin",
            "ENCRYPTION_KEY": KEY,
            "TAP_TIKTOK_ADS_ACCESS_TOKEN": "someone-elses-token",
            "TAP_TIKTOK_ADS_REFRESH_TOKEN": "someone-elses-refresh",
            "TAP_TIKTOK_ADS_END_DATE": "2026-03-31",
            "TIKTOK_ADS_APP_ID": "global-app",
            "TIKTOK_ADS_APP_SECRET": "the-app-secret",
            "TAP_TIKTOK_ADS_START_DATE": "2026-01-01",
        },
    )
    env = pipeline_env(
        settings,
        42,
        details=ConnectionDetails("tok-42", ("7001",), api_url="http://sim/open_api/v1.3"),
        sync_config={},
        store_path=tmp_path / "tokens.json",
        sys_dir=tmp_path / "sys",
    )
    assert "ENCRYPTION_KEY" not in env
    assert "TAP_TIKTOK_ADS_REFRESH_TOKEN" not in env
    assert env["TAP_TIKTOK_ADS_ACCESS_TOKEN"] == "tok-42"
    assert json.loads(env["TAP_TIKTOK_ADS_ADVERTISER_IDS"]) == ["7001"]
    assert env["TAP_TIKTOK_ADS_DATA_SOURCE_ID"] == "42"
    assert env["TAP_TIKTOK_ADS_API_URL"] == "http://sim/open_api/v1.3"
    assert env["TAP_TIKTOK_ADS_APP_ID"] == "global-app"
    assert env["TAP_TIKTOK_ADS_APP_SECRET"] == "the-app-secret"
    assert env["TAP_TIKTOK_ADS_END_DATE"] == "2026-03-31"
    assert env["TAP_TIKTOK_ADS_START_DATE"] == "2026-01-01"
    assert env["TAP_TIKTOK_ADS_TOKEN_STORE_PATH"] == str(tmp_path / "tokens.json")
    assert env["MELTANO_SYS_DIR_ROOT"] == str(tmp_path / "sys")
    # Meltano's state: meltano.yml's database_uri (the platform database), never a file here.
    assert "MELTANO_DATABASE_URI" not in env
    assert env["TIKTOK_ADS_OWNED_ADVERTISER_IDS"] == env["TAP_TIKTOK_ADS_ADVERTISER_IDS"]
    # The app's shared request budget: the platform database from the inherited PG* variables.
    assert env["TAP_TIKTOK_ADS_SHARED_BUDGET"] == "postgresql://"
    command = meltano_command(settings, 42, full_refresh=False)
    # Extract and load only (the check first), JSON events: the cycle builds once after every
    # load. --force: the runner's lock decides; a killed run's Meltano record must not block.
    assert command[1:] == [
        "--log-format=json",
        "run",
        "--force",
        "--state-id-suffix=data-source-42",
        "dra-check:data-source",
        "tap-tiktok-ads",
        "target-postgres",
    ]
    assert not any("tok-42" in part or "secret" in part for part in command)


def test_a_shared_budget_from_the_runners_environment_wins(tmp_path: Path) -> None:
    settings = RunnerSettings(
        key_hex=KEY,
        project_dir=tmp_path,
        meltano="/venv/bin/meltano",
        log_dir=tmp_path / "logs",
        base_env={"PATH": "/usr/bin", "TAP_TIKTOK_ADS_SHARED_BUDGET": ""},  # turned off
    )
    env = pipeline_env(
        settings,
        42,
        details=ConnectionDetails("tok-42", ("7001",)),
        sync_config={},
        store_path=tmp_path / "tokens.json",
        sys_dir=tmp_path / "sys",
    )
    assert env["TAP_TIKTOK_ADS_SHARED_BUDGET"] == ""
