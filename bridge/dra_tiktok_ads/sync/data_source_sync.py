"""One data source's part of a cycle: locked, claimed, extracted and loaded with its own
secrets; its outcome recorded once the cycle's build has run.

:func:`extract_and_load` returns a :class:`LoadedDataSource` that still holds the data
source's lock; :func:`finish` records the outcome (``completed`` only when the load worked
and the build that followed built its rows) and releases it. Every problem of the data
source itself (key, tokens, Meltano, database) ends as a failed ``SyncOutcome`` written to
its row; nothing here raises for one data source's trouble.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import psycopg

from dra_tiktok_ads import crypto, db
from dra_tiktok_ads.details import ConnectionDetails
from dra_tiktok_ads.schedule import utc_now
from dra_tiktok_ads.sync.build import BuildOutcome
from dra_tiktok_ads.sync.catalog import CycleCatalog
from dra_tiktok_ads.sync.claim import ClaimedDataSource, claim, data_source_lock
from dra_tiktok_ads.sync.meltano_run import (
    MeltanoResult,
    load_error,
    meltano_command,
    prune_run_logs,
    run_log_path,
    run_with_retries,
)
from dra_tiktok_ads.sync.problems import held_back_message
from dra_tiktok_ads.sync.raw_tables import FirstLoadGate, needs_full_refresh, raw_schema
from dra_tiktok_ads.sync.run_environment import (
    new_workdir,
    pipeline_env,
    private_sys_dir,
    redact_message,
    secret_values,
)
from dra_tiktok_ads.sync.settings import LOGGER, RunnerSettings
from dra_tiktok_ads.sync.status import SyncOutcome, record_outcome
from dra_tiktok_ads.sync.tokens import TokenWriteBack, seed_token_store
from tap_tiktok_ads.auth import TokenError


@dataclass
class LoadedDataSource:
    """A data source between its extract-and-load and its recorded outcome: its lock is held
    (on ``conn``) until :func:`finish`."""

    data_source_id: int
    conn: psycopg.Connection
    outcome: SyncOutcome
    started_wall: datetime
    started: float
    loaded: bool = False
    secrets: set[str] = field(default_factory=set)
    write_back: TokenWriteBack | None = None
    workdir: Path | None = None
    release: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    #: The runner's environment, for the schemas the quarantine check reads.
    base_env: Mapping[str, str] = field(default_factory=dict)


def sync_data_source(
    settings: RunnerSettings, data_source_id: int, *, require_due: bool
) -> SyncOutcome:
    """A cycle of one: extract and load, build, record. Never raises for a data source problem."""
    from dra_tiktok_ads.sync.cycle import sync_many

    return sync_many(settings, [data_source_id], require_due=require_due)[0]


def extract_and_load(
    settings: RunnerSettings,
    data_source_id: int,
    *,
    require_due: bool,
    catalog: CycleCatalog | None = None,
) -> LoadedDataSource | SyncOutcome:
    """Lock, claim and extract-and-load one data source. A ``SyncOutcome`` when it was skipped
    or could not even be locked (nothing to record); else the loaded data source, whose lock
    stays held until :func:`finish`. With ``catalog``, the run uses the cycle's tap catalog
    when there is one, and leaves it its own when there is not."""
    stack = contextlib.ExitStack()
    try:
        conn = stack.enter_context(data_source_lock(settings.connect, data_source_id))
        if conn is None:
            stack.close()
            return SyncOutcome(data_source_id, "skipped", "already running elsewhere")
        claimed = claim(conn, data_source_id, require_due=require_due)
        if claimed is None:
            stack.close()
            reason = "no longer due" if require_due else "not a TikTok Ads data source"
            return SyncOutcome(data_source_id, "skipped", reason)
    except (psycopg.Error, db.DatabaseConnectionError) as error:
        stack.close()
        return SyncOutcome(data_source_id, "failed", f"Database error: {error}")
    loaded = LoadedDataSource(
        data_source_id,
        conn,
        SyncOutcome(data_source_id, "failed"),
        started_wall=utc_now(),
        started=time.monotonic(),
        secrets={settings.key_hex},
        release=stack,
        base_env=settings.base_env,
    )
    try:
        _load_claimed(settings, loaded, claimed, catalog)
    except BaseException:
        finish(loaded, None)
        raise
    return loaded


def _load_claimed(
    settings: RunnerSettings,
    loaded: LoadedDataSource,
    claimed: ClaimedDataSource,
    catalog: CycleCatalog | None,
) -> None:
    data_source_id = loaded.data_source_id
    outcome = loaded.outcome
    loaded.workdir = new_workdir(data_source_id)
    LOGGER.info("data source %s: extract and load started", data_source_id)
    try:
        try:
            details = ConnectionDetails.decrypt(claimed.envelope, settings.key_hex)
        except crypto.ConnectionDetailsError as error:
            outcome.message = f"Cannot read the connection details: {error}"
            return
        loaded.secrets |= secret_values(details, settings)
        store = seed_token_store(loaded.workdir, details)
        loaded.write_back = TokenWriteBack(
            loaded.conn,
            data_source_id,
            details=details,
            envelope=claimed.envelope,
            store=store,
            key_hex=settings.key_hex,
            secrets=loaded.secrets,
        )
        sys_dir = loaded.workdir / "meltano"
        env = pipeline_env(
            settings,
            data_source_id,
            details=details,
            sync_config=claimed.sync_config,
            store_path=store.path,
            sys_dir=sys_dir,
        ) | (catalog.env() if catalog else {})
        private_sys_dir(settings, sys_dir)
        result = _run_pipeline(
            settings,
            loaded.conn,
            data_source_id,
            env,
            started_wall=loaded.started_wall,
            secrets=loaded.secrets,
            save_tokens=loaded.write_back.check_and_log_failure,
        )
        outcome.log_path = result.log_path
        outcome.records = result.records
        if result.ok:
            loaded.loaded = True
            if catalog:
                catalog.keep(sys_dir)
        else:
            outcome.message = load_error(result, timeout_s=settings.timeout_s)
        prune_run_logs(settings.log_dir, data_source_id, settings.keep_logs)
    except (OSError, subprocess.SubprocessError, TokenError) as error:
        outcome.message = f"Sync could not start: {error}"
    finally:
        if loaded.write_back is not None:
            loaded.write_back.check_and_log_failure()
            outcome.tokens_rotated = loaded.write_back.rotated
        shutil.rmtree(loaded.workdir, ignore_errors=True)


def finish(loaded: LoadedDataSource, build: BuildOutcome | None) -> SyncOutcome:
    """Decide, record and release: ``completed`` only if the load worked and ``build`` (the
    cycle's dbt build, run after every load) built its rows."""
    outcome = loaded.outcome
    try:
        if loaded.loaded:
            # Rows the build held back for this data source fail it alone (the others built).
            held_back = held_back_message(loaded.conn, loaded.base_env, loaded.data_source_id)
            if held_back:
                outcome.message = f"{held_back} Full log on the sync host: {outcome.log_path}."
            elif build is not None and build.ok:
                outcome.status = "completed"
            else:
                outcome.message = (
                    build.message if build is not None else "the transform (dbt build) did not run"
                )
        outcome.message = redact_message(outcome.message, loaded.secrets)
        outcome.seconds = time.monotonic() - loaded.started
        try:
            record_outcome(loaded.conn, outcome, loaded.started_wall)
        except psycopg.Error as error:
            LOGGER.error(
                "data source %s: cannot record the outcome: %s", loaded.data_source_id, error
            )
        LOGGER.info(
            "data source %s: %s in %.1f s, %d records%s",
            loaded.data_source_id,
            outcome.status,
            outcome.seconds,
            outcome.records,
            f": {outcome.message}" if outcome.message else "",
        )
        return outcome
    finally:
        loaded.release.close()


def hand_over(loaded: LoadedDataSource) -> SyncOutcome:
    """For a build that runs in another process (Dagster's dbt assets): a failed load is
    recorded now; a successful one stays ``running`` until the build records it. Either way
    the data source's lock is released."""
    if not loaded.loaded:
        return finish(loaded, None)
    try:
        outcome = loaded.outcome
        outcome.seconds = time.monotonic() - loaded.started
        outcome.status = "loaded"
        LOGGER.info(
            "data source %s: loaded in %.1f s, %d records; its build follows",
            loaded.data_source_id,
            outcome.seconds,
            outcome.records,
        )
        return outcome
    finally:
        loaded.release.close()


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
    """The data source's extract-and-load, after its turn at the first-load gate."""
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
