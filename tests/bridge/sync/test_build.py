"""The cycle's one dbt build: under one advisory lock, outcomes from run_results.json, and a
loaded data source completed only when the build that followed it worked (real dbt and
PostgreSQL, no Meltano)."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import psycopg
import pytest

from dra_tiktok_ads.details import ConnectionDetails
from dra_tiktok_ads.registration import register_data_source
from dra_tiktok_ads.schedule import utc_now
from dra_tiktok_ads.sync.build import BUILD_LOCK, build_lock, run_dbt_build
from dra_tiktok_ads.sync.claim import claim, data_source_lock
from dra_tiktok_ads.sync.data_source_sync import LoadedDataSource, finish
from dra_tiktok_ads.sync.settings import RunnerSettings
from dra_tiktok_ads.sync.status import SyncOutcome
from tests.e2e.harness import REPO_ROOT, isolated_environ
from tests.transform import raw_layer

pytestmark = pytest.mark.e2e


@pytest.fixture
def settings(db_settings: RunnerSettings, fresh_database: dict[str, str]) -> RunnerSettings:
    return replace(db_settings, project_dir=REPO_ROOT, base_env=isolated_environ() | fresh_database)


@contextlib.contextmanager
def _loaded(settings: RunnerSettings, data_source_id: int) -> Iterator[LoadedDataSource]:
    """A data source as the cycle holds it between its load and the build: locked, claimed."""
    stack = contextlib.ExitStack()
    conn = stack.enter_context(data_source_lock(settings.connect, data_source_id))
    assert conn is not None
    assert claim(conn, data_source_id, require_due=False) is not None
    yield LoadedDataSource(
        data_source_id,
        conn,
        SyncOutcome(data_source_id, "failed", records=7),
        started_wall=utc_now(),
        started=time.monotonic(),
        loaded=True,
        release=stack,
    )


def _row(conn: psycopg.Connection, data_source_id: int) -> tuple[str, str | None, int]:
    row = conn.execute(
        "SELECT sync_status, sync_error_message, total_records_synced FROM dra_data_sources"
        " WHERE id = %s",
        (data_source_id,),
    ).fetchone()
    assert row is not None
    return row[0], row[1], row[2]


def test_a_failed_build_fails_the_loaded_source_and_the_next_build_completes_it(
    settings: RunnerSettings, db_connection: psycopg.Connection
) -> None:
    data_source_id = register_data_source(
        db_connection,
        advertiser_id="7001",
        advertiser_name="Built",
        details=ConnectionDetails("token", ("7001",)),
        key_hex=settings.key_hex,
        sync_schedule="daily",
    )
    # No raw tables: dbt stops in on-run-start; the reason comes from dbt's JSON events.
    with _loaded(settings, data_source_id) as loaded:
        assert _row(db_connection, data_source_id)[0] == "running"
        build = run_dbt_build(settings, secrets=set(), started=utc_now())
        assert not build.ok
        assert build.message.startswith("the transform (dbt build) failed: ")
        assert "Raw TikTok table(s) missing" in build.message
        outcome = finish(loaded, build)
    assert outcome.status == "failed"
    status, message, records = _row(db_connection, data_source_id)
    assert (status, records) == ("failed", 7)
    assert message is not None
    assert "Raw TikTok table(s) missing" in message

    raw_layer.create_raw_tables(db_connection)
    with _loaded(settings, data_source_id) as loaded:
        build = run_dbt_build(settings, secrets=set(), started=utc_now())
        assert build.ok, build.message
        # Every node of the project ran, read from run_results.json.
        assert build.results.nodes
        assert not build.results.failures
        assert build.results.count("success") >= 10
        outcome = finish(loaded, build)
    assert outcome.status == "completed"
    assert _row(db_connection, data_source_id) == ("completed", None, 7)
    # The lock is released with the outcome: the next cycle can take the data source.
    with data_source_lock(settings.connect, data_source_id) as conn:
        assert conn is not None


def test_a_second_build_waits_for_the_one_in_progress(
    settings: RunnerSettings, db_connection: psycopg.Connection
) -> None:
    raw_layer.create_raw_tables(db_connection)
    done: list[float] = []
    with build_lock(settings.connect) as waited:
        assert waited < 1
        worker = threading.Thread(
            target=lambda: done.append(
                run_dbt_build(settings, secrets=set(), started=utc_now()).waited_s
            )
        )
        worker.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            row = db_connection.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                " AND classid = %s AND objid = %s",
                BUILD_LOCK,
            ).fetchone()
            if row and row[0]:
                break
            time.sleep(0.1)
        else:
            pytest.fail("the second build never waited for the build lock")
        time.sleep(0.5)
        assert not done
    worker.join(300)
    assert len(done) == 1
    assert done[0] >= 0.5
