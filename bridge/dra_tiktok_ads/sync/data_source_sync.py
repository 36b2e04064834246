"""One data source: locked, claimed, run with its own secrets, and its outcome recorded.

Every problem of the data source itself (key, tokens, Meltano, database) ends as a failed
``SyncOutcome`` written to its row; nothing here raises for one data source's trouble.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path

import psycopg

from dra_tiktok_ads import crypto, db
from dra_tiktok_ads.details import ConnectionDetails
from dra_tiktok_ads.schedule import utc_now
from dra_tiktok_ads.sync.claim import ClaimedDataSource, claim, data_source_lock
from dra_tiktok_ads.sync.meltano_run import (
    meltano_command,
    prune_run_logs,
    run_log_path,
    run_with_retries,
)
from dra_tiktok_ads.sync.problems import held_back_message
from dra_tiktok_ads.sync.raw_tables import FirstLoadGate, needs_full_refresh, raw_schema
from dra_tiktok_ads.sync.run_environment import (
    pipeline_env,
    private_sys_dir,
    redact_message,
    secret_values,
)
from dra_tiktok_ads.sync.run_output import MeltanoResult, final_error
from dra_tiktok_ads.sync.settings import LOGGER, RunnerSettings
from dra_tiktok_ads.sync.status import SyncOutcome, record_outcome
from dra_tiktok_ads.sync.tokens import TokenWriteBack, seed_token_store
from tap_tiktok_ads.auth import TokenError


def sync_data_source(
    settings: RunnerSettings, data_source_id: int, *, require_due: bool
) -> SyncOutcome:
    """Lock, claim, run and record one data source. Never raises for a data source problem."""
    try:
        with data_source_lock(settings.connect, data_source_id) as conn:
            if conn is None:
                return SyncOutcome(data_source_id, "skipped", "already running elsewhere")
            claimed = claim(conn, data_source_id, require_due=require_due)
            if claimed is None:
                reason = "no longer due" if require_due else "not a TikTok Ads data source"
                return SyncOutcome(data_source_id, "skipped", reason)
            return _run_claimed(settings, conn, data_source_id, claimed)
    except (psycopg.Error, db.DatabaseConnectionError) as error:
        return SyncOutcome(data_source_id, "failed", f"Database error: {error}")


def _run_claimed(
    settings: RunnerSettings,
    conn: psycopg.Connection,
    data_source_id: int,
    claimed: ClaimedDataSource,
) -> SyncOutcome:
    started_wall = utc_now()
    started = time.monotonic()
    outcome = SyncOutcome(data_source_id, "failed")
    secrets: set[str] = {settings.key_hex}
    workdir = Path(tempfile.mkdtemp(prefix=f"tiktok-sync-{data_source_id}-"))  # mode 0700
    write_back: TokenWriteBack | None = None
    LOGGER.info("data source %s: sync started", data_source_id)
    try:
        try:
            details = ConnectionDetails.decrypt(claimed.envelope, settings.key_hex)
        except crypto.ConnectionDetailsError as error:
            outcome.message = f"Cannot read the connection details: {error}"
            return outcome
        secrets |= secret_values(details, settings)
        store = seed_token_store(workdir, details)
        write_back = TokenWriteBack(
            conn,
            data_source_id,
            details=details,
            envelope=claimed.envelope,
            store=store,
            key_hex=settings.key_hex,
            secrets=secrets,
        )
        sys_dir = workdir / "meltano"
        env = pipeline_env(
            settings,
            data_source_id,
            details=details,
            sync_config=claimed.sync_config,
            store_path=store.path,
            sys_dir=sys_dir,
        )
        private_sys_dir(settings, sys_dir)
        result = _run_pipeline(
            settings,
            conn,
            data_source_id,
            env,
            started_wall=started_wall,
            secrets=secrets,
            save_tokens=write_back.check_and_log_failure,
        )
        outcome.log_path = result.log_path
        outcome.records = result.records
        if result.returncode == 0 and not result.timed_out:
            outcome.status = "completed"
        else:
            outcome.message = final_error(result, timeout_s=settings.timeout_s)
        held_back = held_back_message(conn, settings.base_env, data_source_id)
        if held_back:  # the transform quarantined rows of this data source (alone)
            other = outcome.message if "(dbt build)" not in outcome.message else ""
            outcome.status = "failed"
            outcome.message = f"{held_back} Full log on the sync host: {result.log_path}."
            if other:  # e.g. the API failed too: say both, the held-back rows first
                outcome.message += f" The run also reported: {other}"
        prune_run_logs(settings.log_dir, data_source_id, settings.keep_logs)
        return outcome
    except (OSError, subprocess.SubprocessError, TokenError) as error:
        outcome.message = f"Sync could not start: {error}"
        return outcome
    finally:
        if write_back is not None:
            write_back.check_and_log_failure()
            outcome.tokens_rotated = write_back.rotated
        outcome.message = redact_message(outcome.message, secrets)
        outcome.seconds = time.monotonic() - started
        try:
            record_outcome(conn, outcome, started_wall)
        except psycopg.Error as error:
            LOGGER.error("data source %s: cannot record the outcome: %s", data_source_id, error)
        shutil.rmtree(workdir, ignore_errors=True)
        LOGGER.info(
            "data source %s: %s in %.1f s, %d records%s",
            data_source_id,
            outcome.status,
            outcome.seconds,
            outcome.records,
            f": {outcome.message}" if outcome.message else "",
        )


def _run_pipeline(
    settings: RunnerSettings,
    conn: psycopg.Connection,
    data_source_id: int,
    env: Mapping[str, str],
    *,
    started_wall: datetime,
    secrets: set[str],
    save_tokens: Callable[[], None],
) -> MeltanoResult:
    """The data source's ``meltano run``, after its turn at the first-load gate."""
    schema = raw_schema(settings)
    full_refresh = settings.full_refresh or needs_full_refresh(conn, schema, data_source_id)
    log_path = run_log_path(settings, data_source_id, started_wall)
    gate = FirstLoadGate(settings.connect, schema, run_name=f"data source {data_source_id}")
    with gate:

        def tick() -> None:
            save_tokens()
            gate.check()

        return run_with_retries(
            settings,
            meltano_command(settings, data_source_id, full_refresh),
            env,
            log_path=log_path,
            secrets=secrets,
            on_tick=tick,
        )
