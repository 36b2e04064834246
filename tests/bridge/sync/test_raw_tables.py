"""The raw layer: first loads take turns until every raw table exists (real PostgreSQL)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace

import psycopg

from dra_tiktok_ads.sync.raw_tables import (
    RAW_TABLES,
    RAW_TABLES_LOCK,
    FirstLoadGate,
    raw_schema,
)
from dra_tiktok_ads.sync.settings import RunnerSettings


def _waiting_for_an_advisory_lock(conn: psycopg.Connection) -> bool:
    row = conn.execute(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
    ).fetchone()
    return row is not None and row[0] > 0


def _poll(condition: Callable[[], bool], seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_first_loads_take_turns_until_every_raw_table_exists(
    db_settings: RunnerSettings, db_connection: psycopg.Connection
) -> None:
    """target-postgres creates its tables check-then-create: two first loads at once fail on
    each other's CREATE. The second run waits until the first has created every table."""
    settings = db_settings
    schema = raw_schema(settings)
    assert schema == "tiktok_ads"
    first = FirstLoadGate(settings.connect, schema)
    second = FirstLoadGate(settings.connect, schema)
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
        for table in RAW_TABLES[:-1]:
            db_connection.execute(f"CREATE TABLE {schema}.{table} (id int)")
        first.check()
        assert first.held, "one table is still missing"
        assert not second_entered.wait(0.5)

        last = RAW_TABLES[-1]
        db_connection.execute(f"CREATE TABLE {schema}.{last} (id int)")
        first.check()  # the runner calls this every second while Meltano runs
        assert not first.held
        assert second_entered.wait(15), "the waiting run goes as soon as the tables exist"
        waiter.join(15)
        assert not second.held

    # From now on nobody waits: the gate is not even taken.
    with FirstLoadGate(settings.connect, schema) as later:
        assert not later.held


def test_a_first_load_that_fails_lets_the_next_run_go(
    db_settings: RunnerSettings, db_connection: psycopg.Connection
) -> None:
    settings = replace(db_settings, base_env={"TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": "raw_x"})
    assert raw_schema(settings) == "raw_x"
    with FirstLoadGate(settings.connect, "raw_x") as failed_run:
        assert failed_run.held  # and its run ends without creating the tables
    row = db_connection.execute("SELECT pg_try_advisory_lock(%s, %s)", RAW_TABLES_LOCK).fetchone()
    assert row == (True,)
