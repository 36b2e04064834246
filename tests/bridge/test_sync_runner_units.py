"""Sync runner logic without the pipeline: schedule math, messages, environment, locking."""

from __future__ import annotations

import argparse
import json
import threading
import time as time_module
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, time, timedelta, timezone
from functools import partial
from pathlib import Path

import psycopg
import pytest

from dra_tiktok_ads import crypto, sync_runner
from dra_tiktok_ads.details import ConnectionDetails
from dra_tiktok_ads.registration import register_data_source
from dra_tiktok_ads.schedule import ScheduleError, add_months, next_scheduled_sync
from tests.e2e.harness import connect_to

KEY = "ab" * 32

# Schedule math (UTC, naive) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("schedule", "at", "base", "expected"),
    [
        ("manual", None, datetime(2026, 3, 1, 10, 0), None),
        ("hourly", None, datetime(2026, 3, 1, 10, 0, 42, 5), datetime(2026, 3, 1, 11, 0)),
        ("hourly", None, datetime(2026, 12, 31, 23, 59, 59), datetime(2027, 1, 1, 0, 59)),
        ("daily", None, datetime(2026, 3, 1, 0, 0, 30), datetime(2026, 3, 2, 0, 0)),
        ("daily", time(6, 30), datetime(2026, 3, 1, 5, 0), datetime(2026, 3, 1, 6, 30)),
        ("daily", time(6, 30), datetime(2026, 3, 1, 6, 30), datetime(2026, 3, 2, 6, 30)),
        ("daily", time(6, 30), datetime(2026, 3, 1, 7, 0), datetime(2026, 3, 2, 6, 30)),
        ("weekly", None, datetime(2026, 3, 1, 0, 1), datetime(2026, 3, 8, 0, 0)),
        ("weekly", time(23, 0), datetime(2026, 12, 28, 23, 5), datetime(2027, 1, 4, 23, 0)),
        ("monthly", None, datetime(2026, 1, 15, 0, 2), datetime(2026, 2, 15, 0, 0)),
        ("monthly", time(4, 0), datetime(2026, 1, 31, 4, 0), datetime(2026, 2, 28, 4, 0)),
        ("monthly", None, datetime(2028, 1, 31, 0, 0), datetime(2028, 2, 29, 0, 0)),
        ("monthly", None, datetime(2026, 12, 31, 0, 0), datetime(2027, 1, 31, 0, 0)),
        ("Daily", None, datetime(2026, 3, 1, 12, 0), datetime(2026, 3, 2, 0, 0)),
    ],
)
def test_next_scheduled_sync(
    schedule: str, at: time | None, base: datetime, expected: datetime | None
) -> None:
    assert next_scheduled_sync(schedule, at, base) == expected


def test_schedule_math_is_utc_for_aware_times() -> None:
    # 23:30 in New York (UTC-5 in winter) is 04:30 UTC the next day.
    base = datetime(2026, 1, 10, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    assert next_scheduled_sync("daily", time(6, 0), base) == datetime(2026, 1, 11, 6, 0)


def test_unknown_schedule_is_an_error() -> None:
    with pytest.raises(ScheduleError, match="fortnightly"):
        next_scheduled_sync("fortnightly", None, datetime(2026, 1, 1))


def test_add_months_clamps_to_month_end() -> None:
    assert add_months(datetime(2026, 3, 31).date(), 1).isoformat() == "2026-04-30"
    assert add_months(datetime(2026, 11, 30).date(), 3).isoformat() == "2027-02-28"


# Messages and metrics --------------------------------------------------------------------


def test_error_line_prefers_the_taps_sync_failed_line() -> None:
    line = (
        "2026-03-01T10:00:00Z [info     ] tap-tiktok-ads 2026-03-01 10:00:00,000 | ERROR    |"
        " tap-tiktok-ads | Sync failed: TikTok code 40105 (Access token is invalid);"
        " reconnect the account cmd_type=elb consumer=False name=tap-tiktok-ads"
    )
    assert sync_runner._error_line(line) == (
        "Sync failed: TikTok code 40105 (Access token is invalid); reconnect the account"
    )


def test_error_line_names_a_failing_dbt_test() -> None:
    line = (
        "2026-03-01T10:00:00Z [info     ] dbt-postgres \x1b[0m10:17:48  \x1b[31mFailure in test"
        " assert_something (tests/assert_something.sql)\x1b[0m"
    )
    message = sync_runner._error_line(line)
    assert message is not None
    assert "dbt build" in message
    assert "assert_something" in message


@pytest.mark.parametrize(
    ("line", "count"),
    [
        ("[info ] tap-tiktok-ads METRIC  metric_name=record_count metric_value=30", 30),
        ("[info ] tap-tiktok-ads METRIC  metric_name=sync_duration metric_value=0.12", 0),
        (
            'METRIC: {"type": "counter", "metric": "record_count", "value": 7,'
            ' "tags": {"stream": "campaigns"}}',
            7,
        ),
        ("nothing here", 0),
        (
            "2026-11-25T10:21:36Z [info     ] target-postgres METRIC   metric_name=record_count"
            " metric_value=84",
            0,
        ),
        (
            "2026-11-25T10:21:36Z [info     ] tap-tiktok-ads METRIC   metric_name=record_count"
            " metric_value=84",
            84,
        ),
    ],
)
def test_record_count(line: str, count: int) -> None:
    assert sync_runner.record_count_in_line(line) == count


def test_messages_are_redacted() -> None:
    message = sync_runner._redact_message(
        "failed with secret-token-123 and refresh_token=abcdef", {"secret-token-123"}
    )
    assert "secret-token-123" not in message
    assert "abcdef" not in message


# Environment of one run ------------------------------------------------------------------


def test_pipeline_env_carries_the_data_sources_own_settings_only(tmp_path: Path) -> None:
    settings = sync_runner.RunnerSettings(
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
    env = sync_runner.pipeline_env(
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
    assert env["MELTANO_DATABASE_URI"] == f"sqlite:///{tmp_path / '.meltano' / 'meltano.db'}"
    command = sync_runner.meltano_command(settings, 42, full_refresh=False)
    assert command[1:] == ["run", "--state-id-suffix=data-source-42", "tiktok-ads"]
    assert not any("tok-42" in part or "secret" in part for part in command)


# Locking and claiming (real PostgreSQL, no pipeline) -------------------------------------


def _settings(fresh_database: dict[str, str], tmp_path: Path) -> sync_runner.RunnerSettings:
    return sync_runner.RunnerSettings(
        key_hex=KEY,
        project_dir=tmp_path,
        meltano="/nonexistent/meltano",
        log_dir=tmp_path / "logs",
        connect=partial(connect_to, fresh_database),
    )


def test_locked_or_not_due_data_sources_are_skipped(
    fresh_database: dict[str, str], db_connection: psycopg.Connection, tmp_path: Path
) -> None:
    settings = _settings(fresh_database, tmp_path)
    ids = [
        register_data_source(
            db_connection,
            advertiser_id=f"700{i}",
            advertiser_name=f"A{i}",
            details=ConnectionDetails(f"token-{i}", (f"700{i}",)),
            key_hex=KEY,
            sync_schedule=schedule,
        )
        for i, schedule in enumerate(("daily", "hourly", "manual", "weekly"))
    ]
    daily, hourly, manual, weekly = ids
    db_connection.execute(
        "UPDATE dra_data_sources SET next_scheduled_sync = (now() AT TIME ZONE 'UTC') + %s"
        " WHERE id = %s",
        (timedelta(hours=2), weekly),
    )
    db_connection.execute(
        "UPDATE dra_data_sources SET next_scheduled_sync = (now() AT TIME ZONE 'UTC') - %s"
        " WHERE id = %s",
        (timedelta(minutes=1), hourly),
    )
    # Unset next run counts as due (a newly connected account); manual and future are not.
    assert sync_runner.due_data_sources(db_connection) == [daily, hourly]

    with settings.connect() as holder:  # another runner is syncing `daily`
        holder.execute(
            "SELECT pg_advisory_lock(%s, %s)", (sync_runner.LOCK_NAMESPACE, daily)
        ).fetchone()
        outcome = sync_runner.sync_data_source(settings, daily, require_due=True)
        assert outcome.status == "skipped"
        assert "already running" in outcome.message
    not_due = sync_runner.sync_data_source(settings, weekly, require_due=True)
    assert (not_due.status, not_due.message) == ("skipped", "no longer due")
    row = db_connection.execute(
        "SELECT sync_status FROM dra_data_sources WHERE id = ANY(%s)", ([daily, weekly],)
    ).fetchall()
    assert {r[0] for r in row} == {None}, "skipped data sources are not touched"
    assert manual not in sync_runner.due_data_sources(db_connection)


def test_undecryptable_details_fail_that_source_with_a_clear_message(
    fresh_database: dict[str, str], db_connection: psycopg.Connection, tmp_path: Path
) -> None:
    settings = _settings(fresh_database, tmp_path)
    data_source_id = register_data_source(
        db_connection,
        advertiser_id="7009",
        advertiser_name="Other key",
        details=ConnectionDetails("token-x", ("7009",)),
        key_hex="cd" * 32,  # encrypted with another key
        sync_schedule="hourly",
    )
    outcome = sync_runner.sync_data_source(settings, data_source_id, require_due=False)
    assert outcome.status == "failed"
    row = db_connection.execute(
        "SELECT sync_status, sync_error_message, next_scheduled_sync FROM dra_data_sources"
        " WHERE id = %s",
        (data_source_id,),
    ).fetchone()
    assert row is not None
    status, message, next_run = row
    assert status == "failed"
    assert "ENCRYPTION_KEY" in message
    assert next_run is not None  # retried at the next slot, not every minute
    assert not (tmp_path / "logs").exists()


def test_cli_reports_configuration_errors_with_status_2(
    monkeypatch: pytest.MonkeyPatch, fresh_database: dict[str, str], tmp_path: Path
) -> None:
    monkeypatch.delenv("ENCRYPTION_KEY", raising=False)
    assert sync_runner.main(["--due", "--project-dir", str(tmp_path)]) == 2
    monkeypatch.setenv("ENCRYPTION_KEY", KEY)
    for name, value in fresh_database.items():
        monkeypatch.setenv(name, value)
    project = Path(__file__).resolve().parents[2]
    # No dra_data_sources table in a fresh database.
    assert sync_runner.main(["--due", "--project-dir", str(project)]) == 2
    with pytest.raises(SystemExit):
        sync_runner.main(["--due", "--all"])
    assert crypto.KEY_ENV_VAR == "ENCRYPTION_KEY"
    assert isinstance(sync_runner.build_parser().parse_args(["--all"]), argparse.Namespace)


# First loads take turns ------------------------------------------------------------------


def _waiting_for_an_advisory_lock(conn: psycopg.Connection) -> bool:
    row = conn.execute(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
    ).fetchone()
    return row is not None and row[0] > 0


def _poll(condition: Callable[[], bool], seconds: float = 15.0) -> bool:
    deadline = time_module.monotonic() + seconds
    while time_module.monotonic() < deadline:
        if condition():
            return True
        time_module.sleep(0.05)
    return condition()


def test_first_loads_take_turns_until_every_raw_table_exists(
    fresh_database: dict[str, str], db_connection: psycopg.Connection, tmp_path: Path
) -> None:
    """target-postgres creates its tables check-then-create: two first loads at once fail on
    each other's CREATE. The second run waits until the first has created every table."""
    settings = _settings(fresh_database, tmp_path)
    schema = sync_runner.raw_schema(settings)
    assert schema == "tiktok_ads"
    first = sync_runner.FirstLoadGate(settings.connect, schema)
    second = sync_runner.FirstLoadGate(settings.connect, schema)
    second_entered = threading.Event()

    def second_run() -> None:
        with second:
            second_entered.set()

    with first:
        assert first.held
        waiter = threading.Thread(target=second_run, daemon=True)
        waiter.start()
        assert _poll(lambda: _waiting_for_an_advisory_lock(db_connection))
        db_connection.execute(f"CREATE SCHEMA {schema}")
        for table in sync_runner.RAW_TABLES[:-1]:
            db_connection.execute(f"CREATE TABLE {schema}.{table} (id int)")
        first.check()
        assert first.held, "one table is still missing"
        assert not second_entered.wait(0.5)

        last = sync_runner.RAW_TABLES[-1]
        db_connection.execute(f"CREATE TABLE {schema}.{last} (id int)")
        first.check()  # the runner calls this every second while Meltano runs
        assert not first.held
        assert second_entered.wait(15), "the waiting run goes as soon as the tables exist"
        waiter.join(15)
        assert not second.held

    # From now on nobody waits: the gate is not even taken.
    with sync_runner.FirstLoadGate(settings.connect, schema) as later:
        assert not later.held


def test_a_first_load_that_fails_lets_the_next_run_go(
    fresh_database: dict[str, str], db_connection: psycopg.Connection, tmp_path: Path
) -> None:
    settings = replace(
        _settings(fresh_database, tmp_path),
        base_env={"TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": "raw_x"},
    )
    assert sync_runner.raw_schema(settings) == "raw_x"
    with sync_runner.FirstLoadGate(settings.connect, "raw_x") as failed_run:
        assert failed_run.held  # and its run ends without creating the tables
    row = db_connection.execute(
        "SELECT pg_try_advisory_lock(%s, %s)", sync_runner.RAW_TABLES_LOCK
    ).fetchone()
    assert row == (True,)
