"""Run the Meltano pipeline for the platform's TikTok data sources (``tap-tiktok-ads-sync``).

The DRA platform keeps one ``dra_data_sources`` row per connected account with its schedule
and sync health. Its scheduler calls ``tap-tiktok-ads-sync --due`` every minute; the "sync
now" button calls ``tap-tiktok-ads-sync --data-source ID``. For each data source this:

1. takes a PostgreSQL advisory lock on a dedicated connection (a data source already being
   synced is skipped; the lock dies with the process, so a crash never leaves it stuck),
2. marks the row ``sync_status = 'running'``,
3. decrypts ``connection_details`` (``ENCRYPTION_KEY``, the platform's AES-256-GCM format),
   seeds a private token store (mode 0600) from them and runs
   ``meltano run --state-id-suffix data-source-<id> tiktok-ads`` with that source's tokens,
   advertisers and ``data_source_id`` in the subprocess environment (never in argv or logs),
4. writes rotated tokens back into the encrypted ``connection_details`` as soon as the tap
   persists them, and again when the run ends, whatever its outcome,
5. records ``sync_status`` (``completed`` / ``failed``), ``last_sync_at``,
   ``sync_error_message`` (actionable, secrets removed), ``total_records_synced`` (records
   extracted by this run) and ``next_scheduled_sync`` (see :mod:`.schedule`).

See docs/sync_runner.md.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from dra_tiktok_ads import crypto, db
from dra_tiktok_ads.details import ConnectionDetails
from dra_tiktok_ads.schedule import (
    AUTOMATIC_SCHEDULES,
    ScheduleError,
    next_scheduled_sync,
    utc_now,
)
from tap_tiktok_ads.auth import TokenError, TokenStore
from tap_tiktok_ads.redaction import REDACTED, redact

LOGGER = logging.getLogger("tap-tiktok-ads-sync")

#: First key of ``pg_try_advisory_lock(int, int)``; the second is the data source id.
#: ("TTKS" in ASCII; the two-int key space never collides with one-bigint locks.)
LOCK_NAMESPACE = 0x54544B53
#: Key of the lock that makes first loads take turns ("TTKR", 0).
RAW_TABLES_LOCK = (0x54544B52, 0)
#: The tables target-postgres creates in the raw schema, one per stream.
RAW_TABLES = (
    "advertiser_info",
    "campaigns",
    "ad_groups",
    "campaign_performance",
    "ad_group_performance",
)
DEFAULT_RAW_SCHEMA = "tiktok_ads"
JOB = "tiktok-ads"
STATE_ID_SUFFIX = "data-source-{id}"
DEFAULT_MAX_PARALLEL = 2
DEFAULT_TIMEOUT_S = 3600
DEFAULT_START_DAYS = 90
DEFAULT_KEEP_LOGS = 20
MAX_ERROR_MESSAGE = 1000
SYSTEM_DB_RETRIES = 2

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_BUSY = 3

#: Per data source settings: never inherited from the runner's own environment.
_PER_SOURCE_VARS = (
    "TAP_TIKTOK_ADS_ACCESS_TOKEN",
    "TAP_TIKTOK_ADS_REFRESH_TOKEN",
    "TAP_TIKTOK_ADS_TOKEN_EXPIRES_AT",
    "TAP_TIKTOK_ADS_ADVERTISER_IDS",
    "TAP_TIKTOK_ADS_DATA_SOURCE_ID",
    "TAP_TIKTOK_ADS_TOKEN_STORE_PATH",
    "TAP_TIKTOK_ADS_APP_ID",
    "TAP_TIKTOK_ADS_APP_SECRET",
    "TAP_TIKTOK_ADS_START_DATE",
    crypto.KEY_ENV_VAR,  # the pipeline never needs the platform key
)
_TIKTOK_SOURCES = "data_type::text = 'tiktok_ads'"
_DUE = (
    "sync_enabled AND sync_schedule IN ({schedules})"
    " AND (next_scheduled_sync IS NULL OR next_scheduled_sync <= (now() AT TIME ZONE 'UTC'))"
).format(schedules=", ".join(f"'{s}'" for s in AUTOMATIC_SCHEDULES))

_METRIC = re.compile(r"METRIC: (\{.*\})")
# Meltano re-renders the SDK's JSON metric as key=value pairs.
_PLUGIN = re.compile(r"^\S+\s+\[\w+\s*\]\s+(\S+)")
_METRIC_KV = re.compile(r"\bmetric_name=record_count\s+metric_value=(\d+)")
_DBT_FAILURE = re.compile(
    r"((?:Failure in test|(?:Database|Compilation|Runtime) Error in \w+)\s+\S+)"
)
_SYNC_FAILED = re.compile(r"(Sync failed: .*?)(?:\s+cmd_type=|\s+name=tap-tiktok-ads|$)")
_LEVEL_ERROR = re.compile(r"\|\s*(?:ERROR|CRITICAL)\s*\|\s*[\w.-]+\s*\|\s*(.*?)(?:\s+cmd_type=|$)")
_MELTANO_ERROR = re.compile(r"\[(?:error|critical)\s*\]\s+meltano\s+(.*?)(?:\s+cmd_type=.*)?$")
#: Meltano's closing lines say nothing about the cause.
_GENERIC_ERRORS = ("Block run completed", "Run completed", "Run failed")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class RunnerError(RuntimeError):
    """The runner cannot work at all (configuration, database); exit status 2."""


@dataclass(frozen=True)
class RunnerSettings:
    """Everything a run needs besides the data source."""

    key_hex: str
    project_dir: Path
    meltano: str
    log_dir: Path
    timeout_s: float = DEFAULT_TIMEOUT_S
    max_parallel: int = DEFAULT_MAX_PARALLEL
    start_date: str | None = None
    environment: str | None = None
    full_refresh: bool = False
    keep_logs: int = DEFAULT_KEEP_LOGS
    base_env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    connect: Callable[[], psycopg.Connection] = field(default=lambda: db.connect(autocommit=True))


@dataclass
class SyncOutcome:
    """What happened to one data source."""

    data_source_id: int
    status: str  # completed | failed | skipped
    message: str = ""
    records: int = 0
    seconds: float = 0.0
    log_path: Path | None = None
    next_scheduled_sync: datetime | None = None
    tokens_rotated: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "data_source_id": self.data_source_id,
            "status": self.status,
            "message": self.message,
            "records": self.records,
            "seconds": round(self.seconds, 1),
            "log": str(self.log_path) if self.log_path else None,
            "next_scheduled_sync": (
                self.next_scheduled_sync.isoformat() if self.next_scheduled_sync else None
            ),
            "tokens_rotated": self.tokens_rotated,
        }


# Selecting data sources ------------------------------------------------------------------


def due_data_sources(conn: psycopg.Connection) -> list[int]:
    """Enabled TikTok data sources whose ``next_scheduled_sync`` has passed (or is unset)."""
    rows = conn.execute(
        f"SELECT id FROM dra_data_sources WHERE {_TIKTOK_SOURCES} AND {_DUE}"
        " ORDER BY next_scheduled_sync NULLS FIRST, id"
    ).fetchall()
    return [int(row[0]) for row in rows]


def all_data_sources(conn: psycopg.Connection) -> list[int]:
    """Every enabled TikTok data source."""
    rows = conn.execute(
        f"SELECT id FROM dra_data_sources WHERE {_TIKTOK_SOURCES} AND sync_enabled ORDER BY id"
    ).fetchall()
    return [int(row[0]) for row in rows]


def _check_platform_table(conn: psycopg.Connection) -> None:
    row = conn.execute("SELECT to_regclass('dra_data_sources')").fetchone()
    if row is None or row[0] is None:
        raise RunnerError(
            f"There is no dra_data_sources table in {db.describe_target()}: point PG* at the"
            " platform database (register data sources with tap-tiktok-ads-register)."
        )


# Locking ----------------------------------------------------------------------------------


@contextlib.contextmanager
def data_source_lock(
    connect: Callable[[], psycopg.Connection], data_source_id: int
) -> Iterator[psycopg.Connection | None]:
    """A dedicated connection holding the data source's advisory lock, or None if taken.

    Session-level advisory locks are released when the connection ends, including when the
    process dies, so a crashed runner never blocks a data source.
    """
    conn = connect()
    try:
        row = conn.execute(
            "SELECT pg_try_advisory_lock(%s, %s)", (LOCK_NAMESPACE, data_source_id)
        ).fetchone()
        if not row or not row[0]:
            yield None
            return
        try:
            yield conn
        finally:
            with contextlib.suppress(psycopg.Error):
                conn.execute("SELECT pg_advisory_unlock(%s, %s)", (LOCK_NAMESPACE, data_source_id))
    finally:
        conn.close()


def raw_schema(settings: RunnerSettings) -> str:
    """The schema target-postgres loads into (meltano.yml default, or the env override)."""
    return settings.base_env.get("TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA") or DEFAULT_RAW_SCHEMA


def _raw_tables_exist(conn: psycopg.Connection, schema: str) -> bool:
    row = conn.execute(
        "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = %s AND tablename = ANY(%s)",
        (schema, list(RAW_TABLES)),
    ).fetchone()
    return row is not None and int(row[0]) == len(RAW_TABLES)


class FirstLoadGate:
    """Runs take turns until every raw table exists, then run in parallel.

    target-postgres creates its schema and tables check-then-create, so two loads into a
    database without them fail on each other's CREATE (duplicate key in pg_namespace or
    pg_type; seen in about one run in three when two start together). Once the tables exist,
    parallel loads are safe: every key includes ``data_source_id``. A run holding the gate
    releases it as soon as the tables exist (``check``, called every second) or when it ends;
    the lock is session-level, so a dead runner releases it too.
    """

    def __init__(
        self, connect: Callable[[], psycopg.Connection], schema: str, *, run_name: str = "run"
    ) -> None:
        self._connect = connect
        self._schema = schema
        self._run_name = run_name
        self._conn: psycopg.Connection | None = None
        self._guard = threading.Lock()

    def __enter__(self) -> FirstLoadGate:
        conn = self._connect()
        try:
            if _raw_tables_exist(conn, self._schema):
                conn.close()
                return self
            row = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", RAW_TABLES_LOCK).fetchone()
            if not row or not row[0]:
                LOGGER.info(
                    "%s: waiting for another run to create the raw tables in schema %s",
                    self._run_name,
                    self._schema,
                )
                conn.execute("SELECT pg_advisory_lock(%s, %s)", RAW_TABLES_LOCK)
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        self.check()
        return self

    @property
    def held(self) -> bool:
        return self._conn is not None

    def check(self) -> None:
        """Let the others go once the tables exist."""
        with self._guard:
            if self._conn is not None and _raw_tables_exist(self._conn, self._schema):
                self._release()

    def __exit__(self, *exc_info: object) -> None:
        with self._guard:
            self._release()

    def _release(self) -> None:
        if self._conn is not None:
            # Unlock explicitly: a closed session's locks go only when its backend exits,
            # a moment after close() returns, and the next run may already be asking.
            with contextlib.suppress(psycopg.Error):
                self._conn.execute("SELECT pg_advisory_unlock_all()")
            self._conn.close()
            self._conn = None


# Tokens -----------------------------------------------------------------------------------


class TokenWriteBack:
    """Copies tokens the tap rotated into the store back into ``connection_details``.

    ``check()`` runs every second while Meltano works and once more at the end, so a rotated
    refresh token (the old one is already dead) reaches the database within a second of the
    tap persisting it, not only after the run. The update is a compare-and-set on the
    envelope last read or written: if the platform replaced the details meanwhile (the user
    reconnected), the newer connection wins and nothing is overwritten.
    """

    def __init__(
        self,
        conn: psycopg.Connection,
        data_source_id: int,
        *,
        details: ConnectionDetails,
        envelope: Any,
        store: TokenStore,
        key_hex: str,
        secrets: set[str],
    ) -> None:
        self._conn = conn
        self._id = data_source_id
        self._details = details
        self._envelope = envelope
        self._store = store
        self._key_hex = key_hex
        self._secrets = secrets
        self._lock = threading.Lock()
        self.rotated = False
        self.conflict = False

    def check(self) -> None:
        with self._lock:
            try:
                stored = self._store.load()
            except TokenError as error:
                LOGGER.warning("data source %s: %s", self._id, error)
                return
            if stored is None or not stored.access_token or self._details.same_tokens(stored):
                return
            self._secrets.update(s for s in (stored.access_token, stored.refresh_token) if s)
            details = self._details.with_tokens(stored)
            envelope = details.encrypt(self._key_hex)
            row = self._conn.execute(
                "UPDATE dra_data_sources SET connection_details = %s"
                " WHERE id = %s AND connection_details = %s RETURNING id",
                (Jsonb(envelope), self._id, Jsonb(self._envelope)),
            ).fetchone()
            if row is None:
                self.conflict = True
                LOGGER.warning(
                    "data source %s: connection details changed during the run (reconnected?);"
                    " kept them and dropped the tokens this run rotated",
                    self._id,
                )
            else:
                LOGGER.info("data source %s: rotated tokens saved (encrypted)", self._id)
                self.rotated = True
            self._details, self._envelope = details, envelope


# Running Meltano --------------------------------------------------------------------------


@dataclass
class MeltanoResult:
    returncode: int
    records: int
    error_line: str | None
    log_path: Path
    timed_out: bool = False


def _private_sys_dir(project_sys_dir: Path, target: Path) -> None:
    """A Meltano system directory of our own: shared plugin venvs, private ``run/`` files.

    Meltano keeps each plugin's run files (catalog, incoming ``state.json``) under
    ``.meltano/run/<plugin>/`` with fixed names, so two runs from one project directory would
    read each other's state. With ``MELTANO_SYS_DIR_ROOT`` pointing here, every run has its
    own, while the installed plugins are shared through symlinks.
    """
    target.mkdir(mode=0o700)
    for kind in ("extractors", "loaders", "utilities", "transformers", "orchestrators", "files"):
        source = project_sys_dir / kind
        if source.is_dir():
            (target / kind).symlink_to(source, target_is_directory=True)


def _pdeathsig() -> Callable[[], None] | None:
    """Linux: the Meltano child is killed if the runner dies, so no orphan keeps syncing a
    data source whose lock has been released."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1

    def set_signal() -> None:
        prctl(pr_set_pdeathsig, signal.SIGKILL)

    return set_signal


_SET_PDEATHSIG = _pdeathsig()


def meltano_command(settings: RunnerSettings, data_source_id: int, full_refresh: bool) -> list[str]:
    return [
        settings.meltano,
        *([f"--environment={settings.environment}"] if settings.environment else []),
        "run",
        f"--state-id-suffix={STATE_ID_SUFFIX.format(id=data_source_id)}",
        *(["--full-refresh"] if full_refresh else []),
        JOB,
    ]


def run_meltano(
    settings: RunnerSettings,
    command: Sequence[str],
    env: Mapping[str, str],
    *,
    log_path: Path,
    secrets: set[str],
    on_tick: Callable[[], None],
) -> MeltanoResult:
    """Run Meltano, writing its redacted output to ``log_path``; count records, keep the
    last error line, call ``on_tick`` about once a second."""
    records = 0
    error_line: str | None = None
    timed_out = threading.Event()
    done = threading.Event()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as log:
        process = subprocess.Popen(
            list(command),
            cwd=settings.project_dir,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            start_new_session=True,
            preexec_fn=_SET_PDEATHSIG,  # noqa: PLW1509 - only calls prctl
        )

        def watch() -> None:
            deadline = time.monotonic() + settings.timeout_s
            while not done.wait(1.0):
                with contextlib.suppress(Exception):
                    on_tick()
                if time.monotonic() > deadline and process.poll() is None:
                    timed_out.set()
                    _kill_group(process)
                    return

        watcher = threading.Thread(target=watch, name=f"watch-{log_path.stem}", daemon=True)
        watcher.start()
        assert process.stdout is not None
        try:
            for raw in process.stdout:
                line = redact(raw, secrets)
                log.write(line)
                records += record_count_in_line(line)
                found = _error_line(line)
                if found and not (error_line or "").startswith("Sync failed"):
                    error_line = found
            returncode = process.wait()
        finally:
            done.set()
            if process.poll() is None:
                _kill_group(process)
            watcher.join()
    return MeltanoResult(returncode, records, error_line, log_path, timed_out.is_set())


def _kill_group(process: subprocess.Popen[str]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            continue


def record_count_in_line(line: str) -> int:
    """Records in a tap ``record_count`` metric line (JSON or Meltano's key=value form)."""
    plugin = _PLUGIN.search(line)
    if "record_count" not in line or (plugin and not plugin.group(1).startswith("tap-")):
        return 0  # not a metric, or the loader counting the same records again
    plain = _METRIC_KV.search(line)
    if plain:
        return int(plain.group(1))
    match = _METRIC.search(line)
    try:
        metric = json.loads(match.group(1)) if match else {}
        if metric.get("metric") == "record_count" and metric.get("type") == "counter":
            return int(metric.get("value", 0))
    except (TypeError, ValueError, AttributeError):
        pass
    return 0


def _error_line(line: str) -> str | None:
    """The message of an error line, best first: the tap's one-line "Sync failed: ..."."""
    text = _ANSI.sub("", line).strip()
    match = _SYNC_FAILED.search(text)
    if match:
        return match.group(1).strip()
    match = _DBT_FAILURE.search(text)
    if match:
        return (
            f"the transform (dbt build) failed: {match.group(1)}; the raw data was loaded,"
            " the platform tables may be stale"
        )
    match = _LEVEL_ERROR.search(text)
    if match and match.group(1).strip():
        return match.group(1).strip()
    return None


def _final_error(result: MeltanoResult, settings: RunnerSettings) -> str:
    """An actionable one-paragraph message for ``sync_error_message``."""
    log = f"Full log on the sync host: {result.log_path}."
    if result.timed_out:
        return (
            f"Sync timed out after {settings.timeout_s:.0f} s and was stopped; the next run"
            f" resumes from the saved state. Raise --timeout if the account is large. {log}"
        )
    tail = _meltano_error_tail(result.log_path)
    if result.error_line:
        message = result.error_line
        if not message.startswith("Sync failed"):
            message = f"Sync failed: {message}"
    elif tail:
        message = f"Sync failed: {tail}"
    else:
        message = f"Sync failed: meltano run exited with status {result.returncode}."
    return f"{message} {log}"


def _meltano_error_tail(log_path: Path) -> str | None:
    """Meltano's own last error (e.g. a loader or dbt failure), from the redacted log."""
    try:
        lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    for line in reversed(lines[-400:]):
        text = _ANSI.sub("", line).strip()
        match = _MELTANO_ERROR.search(text)
        if match and match.group(1).strip() and not match.group(1).startswith(_GENERIC_ERRORS):
            message = match.group(1).strip()
            return message if len(message) <= 400 else message[:400] + " ..."
    return None


def _run_with_retries(
    settings: RunnerSettings,
    command: Sequence[str],
    env: Mapping[str, str],
    *,
    log_path: Path,
    secrets: set[str],
    on_tick: Callable[[], None],
) -> MeltanoResult:
    """``run_meltano``, again when Meltano stopped at start-up on its system database:
    parallel first runs race on its migrations; nothing was extracted yet (and loads are
    upserts anyway), so running again is safe."""
    for attempt in range(SYSTEM_DB_RETRIES):
        result = run_meltano(
            settings, command, env, log_path=log_path, secrets=secrets, on_tick=on_tick
        )
        if result.returncode == 0 or result.timed_out or not _system_db_race(log_path):
            return result
        LOGGER.warning("Meltano system database busy (%s), retrying", log_path.name)
        time.sleep(2 + 3 * attempt)
        log_path = log_path.with_name(f"{log_path.stem}-retry{attempt + 1}.log")
    return run_meltano(settings, command, env, log_path=log_path, secrets=secrets, on_tick=on_tick)


def _system_db_race(log_path: Path) -> bool:
    """Meltano stopped at start-up on its system database (a concurrent migration)."""
    try:
        text = log_path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return "Cannot upgrade the system database" in text or "database is locked" in text


def _prune_logs(log_dir: Path, data_source_id: int, keep: int) -> None:
    if keep <= 0:
        return
    logs = sorted(log_dir.glob(f"data-source-{data_source_id}-*.log"))
    for old in logs[:-keep]:
        with contextlib.suppress(OSError):
            old.unlink()


# One data source --------------------------------------------------------------------------


def pipeline_env(
    settings: RunnerSettings,
    data_source_id: int,
    *,
    details: ConnectionDetails,
    sync_config: Mapping[str, Any],
    store_path: Path,
    sys_dir: Path,
) -> dict[str, str]:
    """The subprocess environment of one data source's run (the only place secrets go)."""
    base = settings.base_env
    env = {k: v for k, v in base.items() if k not in _PER_SOURCE_VARS}
    project_sys_dir = Path(base.get("MELTANO_SYS_DIR_ROOT") or settings.project_dir / ".meltano")
    if not base.get("MELTANO_DATABASE_URI"):
        # The private system dir must not move Meltano's state database.
        env["MELTANO_DATABASE_URI"] = f"sqlite:///{project_sys_dir / 'meltano.db'}"
    env |= {
        "MELTANO_SYS_DIR_ROOT": str(sys_dir),
        "DBT_TARGET_PATH": str(sys_dir / "dbt-target"),
        "DBT_LOG_PATH": str(sys_dir / "dbt-logs"),
        "TAP_TIKTOK_ADS_DATA_SOURCE_ID": str(data_source_id),
        "TAP_TIKTOK_ADS_ACCESS_TOKEN": details.access_token,
        "TAP_TIKTOK_ADS_ADVERTISER_IDS": json.dumps(list(details.advertiser_ids)),
        "TAP_TIKTOK_ADS_TOKEN_STORE_PATH": str(store_path),
        "TAP_TIKTOK_ADS_START_DATE": _start_date(settings, details, sync_config),
        "PATH": f"{Path(settings.meltano).parent}{os.pathsep}{base.get('PATH', os.defpath)}",
    }
    if details.api_url:
        env["TAP_TIKTOK_ADS_API_URL"] = details.api_url
    app_id = details.app_id or base.get("TIKTOK_ADS_APP_ID")
    app_id = app_id or base.get("TAP_TIKTOK_ADS_APP_ID")
    if app_id:
        env["TAP_TIKTOK_ADS_APP_ID"] = str(app_id)
    app_secret = base.get("TIKTOK_ADS_APP_SECRET") or base.get("TAP_TIKTOK_ADS_APP_SECRET")
    if app_secret:
        env["TAP_TIKTOK_ADS_APP_SECRET"] = app_secret
    if details.refresh_token:
        env["TAP_TIKTOK_ADS_REFRESH_TOKEN"] = details.refresh_token
    if details.token_expires_at:
        env["TAP_TIKTOK_ADS_TOKEN_EXPIRES_AT"] = details.token_expires_at.isoformat()
    return env


def _start_date(
    settings: RunnerSettings, details: ConnectionDetails, sync_config: Mapping[str, Any]
) -> str:
    """Per data source (sync_config / details ``start_date``), else --start-date, else
    ``TAP_TIKTOK_ADS_START_DATE``, else 90 days ago. Bookmarks make later runs incremental."""
    for value in (
        sync_config.get("start_date"),
        details.start_date and details.start_date.isoformat(),
        settings.start_date,
        settings.base_env.get("TAP_TIKTOK_ADS_START_DATE"),
    ):
        if value:
            return str(value)[:10]
    return (datetime.now(timezone.utc).date() - timedelta(days=DEFAULT_START_DAYS)).isoformat()


def _secret_values(details: ConnectionDetails, settings: RunnerSettings) -> set[str]:
    values = details.secrets()
    values |= {
        settings.base_env.get(name, "")
        for name in (
            "TIKTOK_ADS_APP_SECRET",
            "TAP_TIKTOK_ADS_APP_SECRET",
            "PGPASSWORD",
            crypto.KEY_ENV_VAR,
        )
    }
    values.add(settings.key_hex)
    return {v for v in values if v and len(v) >= 4}


def _needs_full_refresh(conn: psycopg.Connection, schema: str, data_source_id: int) -> bool:
    """No raw rows for this data source (new database, dropped tables): ignore old state."""
    table = sql.Identifier(schema, "advertiser_info")
    row = conn.execute("SELECT to_regclass(%s)", (table.as_string(conn),)).fetchone()
    if not row or row[0] is None:
        return False  # first run anywhere: there is no state to ignore either
    found = conn.execute(
        sql.SQL("SELECT 1 FROM {} WHERE data_source_id = %s LIMIT 1").format(table),
        (data_source_id,),
    ).fetchone()
    return found is None


def _claim(conn: psycopg.Connection, data_source_id: int, require_due: bool) -> dict[str, Any]:
    """Under the lock: re-check the row (still due?) and mark it running. {} = skip."""
    condition = f" AND {_DUE}" if require_due else ""
    row = conn.execute(
        "UPDATE dra_data_sources SET sync_status = 'running', sync_error_message = NULL"
        f" WHERE id = %s AND {_TIKTOK_SOURCES}{condition}"
        " RETURNING connection_details, coalesce(sync_config, '{}'::jsonb)",
        (data_source_id,),
    ).fetchone()
    if row is None:
        return {}
    return {"envelope": row[0], "sync_config": row[1] if isinstance(row[1], dict) else {}}


def _finish(
    conn: psycopg.Connection,
    outcome: SyncOutcome,
    started: datetime,
) -> None:
    row = conn.execute(
        "SELECT sync_schedule, sync_schedule_time FROM dra_data_sources WHERE id = %s",
        (outcome.data_source_id,),
    ).fetchone()
    schedule, at = (row[0], row[1]) if row else ("manual", None)
    try:
        outcome.next_scheduled_sync = next_scheduled_sync(schedule, at, started)
    except ScheduleError as error:
        outcome.next_scheduled_sync = None
        LOGGER.warning("data source %s: %s Not scheduled again.", outcome.data_source_id, error)
    conn.execute(
        "UPDATE dra_data_sources SET sync_status = %s, last_sync_at = %s,"
        " sync_error_message = %s, total_records_synced = %s, next_scheduled_sync = %s"
        " WHERE id = %s",
        (
            outcome.status,
            utc_now(),
            outcome.message[:MAX_ERROR_MESSAGE] if outcome.status == "failed" else None,
            outcome.records,
            outcome.next_scheduled_sync,
            outcome.data_source_id,
        ),
    )


def sync_data_source(
    settings: RunnerSettings, data_source_id: int, *, require_due: bool
) -> SyncOutcome:
    """Lock, claim, run and record one data source. Never raises for a data source problem."""
    try:
        with data_source_lock(settings.connect, data_source_id) as conn:
            if conn is None:
                return SyncOutcome(data_source_id, "skipped", "already running elsewhere")
            claimed = _claim(conn, data_source_id, require_due)
            if not claimed:
                reason = "no longer due" if require_due else "not a TikTok Ads data source"
                return SyncOutcome(data_source_id, "skipped", reason)
            return _run_claimed(settings, conn, data_source_id, claimed)
    except (psycopg.Error, db.DatabaseConnectionError) as error:
        return SyncOutcome(data_source_id, "failed", f"Database error: {error}")


def _run_claimed(
    settings: RunnerSettings,
    conn: psycopg.Connection,
    data_source_id: int,
    claimed: Mapping[str, Any],
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
            details = ConnectionDetails.decrypt(claimed["envelope"], settings.key_hex)
        except crypto.ConnectionDetailsError as error:
            outcome.message = f"Cannot read the connection details: {error}"
            return outcome
        secrets |= _secret_values(details, settings)
        store = TokenStore(workdir / "tokens.json")
        store.save(details.tokens())
        write_back = TokenWriteBack(
            conn,
            data_source_id,
            details=details,
            envelope=claimed["envelope"],
            store=store,
            key_hex=settings.key_hex,
            secrets=secrets,
        )
        sys_dir = workdir / "meltano"
        env = pipeline_env(
            settings,
            data_source_id,
            details=details,
            sync_config=claimed["sync_config"],
            store_path=store.path,
            sys_dir=sys_dir,
        )
        project_sys_dir = Path(
            settings.base_env.get("MELTANO_SYS_DIR_ROOT") or settings.project_dir / ".meltano"
        )
        _private_sys_dir(project_sys_dir, sys_dir)
        result = _run_pipeline(
            settings,
            conn,
            data_source_id,
            env,
            started_wall=started_wall,
            secrets=secrets,
            save_tokens=write_back.check,
        )
        outcome.log_path = result.log_path
        outcome.records = result.records
        if result.returncode == 0 and not result.timed_out:
            outcome.status = "completed"
        else:
            outcome.message = _final_error(result, settings)
        _prune_logs(settings.log_dir, data_source_id, settings.keep_logs)
        return outcome
    except (OSError, subprocess.SubprocessError, TokenError) as error:
        outcome.message = f"Sync could not start: {error}"
        return outcome
    finally:
        if write_back is not None:
            _guarded(write_back.check)
            outcome.tokens_rotated = write_back.rotated
        outcome.message = _redact_message(outcome.message, secrets)
        outcome.seconds = time.monotonic() - started
        try:
            _finish(conn, outcome, started_wall)
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
    full_refresh = settings.full_refresh or _needs_full_refresh(conn, schema, data_source_id)
    stamp = started_wall.strftime("%Y%m%dT%H%M%S")
    log_path = settings.log_dir / f"data-source-{data_source_id}-{stamp}.log"
    gate = FirstLoadGate(settings.connect, schema, run_name=f"data source {data_source_id}")
    with gate:

        def tick() -> None:
            _guarded(save_tokens)
            gate.check()

        return _run_with_retries(
            settings,
            meltano_command(settings, data_source_id, full_refresh),
            env,
            log_path=log_path,
            secrets=secrets,
            on_tick=tick,
        )


def _guarded(action: Callable[[], None]) -> None:
    try:
        action()
    except (psycopg.Error, OSError, crypto.ConnectionDetailsError) as error:
        LOGGER.error("saving rotated tokens failed (will retry): %s", type(error).__name__)


def _redact_message(message: str, secrets: Iterable[str]) -> str:
    text = redact(message, secrets)
    # Belt and braces: anything that still looks like a credential parameter.
    return re.sub(
        r"((?:access_token|refresh_token|secret|Access-Token)[\"']?\s*[:=]\s*[\"']?)[^\s\"',&]+",
        rf"\1{REDACTED}",
        text,
    )


# Many data sources ------------------------------------------------------------------------


def sync_many(
    settings: RunnerSettings, data_source_ids: Sequence[int], *, require_due: bool
) -> list[SyncOutcome]:
    """Sync each data source, up to ``max_parallel`` at once; one failure stops nothing."""
    if not data_source_ids:
        return []
    workers = max(1, min(settings.max_parallel, len(data_source_ids)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sync") as pool:
        futures = [
            pool.submit(sync_data_source, settings, ds, require_due=require_due)
            for ds in data_source_ids
        ]
        outcomes = []
        for data_source_id, future in zip(data_source_ids, futures, strict=True):
            try:
                outcomes.append(future.result())
            except Exception as error:  # one source must not stop the others
                LOGGER.exception("data source %s: unexpected error", data_source_id)
                outcomes.append(
                    SyncOutcome(data_source_id, "failed", f"{type(error).__name__}: {error}")
                )
        return outcomes


# Command line -----------------------------------------------------------------------------


def default_meltano() -> str:
    """The ``meltano`` next to this Python (the project venv), else the one on PATH."""
    beside = Path(sys.executable).parent / "meltano"
    if beside.exists():
        return str(beside)
    return shutil.which("meltano") or "meltano"


def _default_project_dir() -> Path:
    configured = os.environ.get("MELTANO_PROJECT_ROOT")
    if configured:
        return Path(configured)
    here = Path(__file__).resolve().parents[2]
    return here if (here / "meltano.yml").exists() else Path.cwd()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tap-tiktok-ads-sync",
        description=(
            "Run the Meltano pipeline (job tiktok-ads) for the platform's TikTok Ads data"
            " sources and record the outcome in dra_data_sources. Database from PG*, key from"
            " ENCRYPTION_KEY, app secret from TIKTOK_ADS_APP_SECRET."
        ),
    )
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--due",
        action="store_true",
        help="every enabled data source whose next_scheduled_sync has passed (or is unset)",
    )
    which.add_argument(
        "--data-source",
        type=int,
        action="append",
        metavar="ID",
        help="this data source, now, whatever its schedule ('sync now'); repeatable",
    )
    which.add_argument("--all", action="store_true", help="every enabled data source, now")
    parser.add_argument(
        "--max-parallel",
        type=int,
        default=int(os.environ.get("TIKTOK_ADS_SYNC_MAX_PARALLEL", DEFAULT_MAX_PARALLEL)),
        help="data sources synced at once (default 2, env TIKTOK_ADS_SYNC_MAX_PARALLEL)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=float(os.environ.get("TIKTOK_ADS_SYNC_TIMEOUT", DEFAULT_TIMEOUT_S)),
        help="seconds per data source before the run is stopped (default 3600)",
    )
    parser.add_argument(
        "--project-dir",
        type=Path,
        default=None,
        help="Meltano project directory (default MELTANO_PROJECT_ROOT, else this checkout)",
    )
    parser.add_argument(
        "--meltano", default=None, help="meltano executable (default: the one in this venv)"
    )
    parser.add_argument(
        "--log-dir",
        type=Path,
        default=None,
        help="per-run logs (default <project>/.meltano/logs/sync-runner)",
    )
    parser.add_argument(
        "--keep-logs", type=int, default=DEFAULT_KEEP_LOGS, help="logs kept per data source"
    )
    parser.add_argument(
        "--start-date",
        help="first day for data sources without state (default TAP_TIKTOK_ADS_START_DATE,"
        " else 90 days ago)",
    )
    parser.add_argument("--environment", help="Meltano environment (default: the project's)")
    parser.add_argument(
        "--full-refresh", action="store_true", help="ignore saved state for these runs"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON line per outcome")
    parser.add_argument("--quiet", action="store_true", help="log warnings and errors only")
    return parser


def settings_from_args(args: argparse.Namespace) -> RunnerSettings:
    if args.max_parallel < 1:
        raise RunnerError("--max-parallel must be at least 1.")
    if args.timeout <= 0:
        raise RunnerError("--timeout must be positive.")
    if args.start_date:
        try:
            date.fromisoformat(args.start_date)
        except ValueError as error:
            raise RunnerError(f"--start-date {args.start_date!r} is not YYYY-MM-DD.") from error
    project_dir = (args.project_dir or _default_project_dir()).resolve()
    if not (project_dir / "meltano.yml").exists():
        raise RunnerError(
            f"{project_dir} has no meltano.yml: give --project-dir or MELTANO_PROJECT_ROOT."
        )
    return RunnerSettings(
        key_hex=crypto.key_from_env(),
        project_dir=project_dir,
        meltano=args.meltano or default_meltano(),
        log_dir=(args.log_dir or project_dir / ".meltano" / "logs" / "sync-runner").resolve(),
        timeout_s=args.timeout,
        max_parallel=args.max_parallel,
        start_date=args.start_date,
        environment=args.environment,
        full_refresh=args.full_refresh,
        keep_logs=args.keep_logs,
    )


def run(settings: RunnerSettings, args: argparse.Namespace) -> tuple[int, list[SyncOutcome]]:
    """Select, sync and summarise; returns the exit status and the outcomes."""
    try:
        with settings.connect() as conn:
            _check_platform_table(conn)
            if args.due:
                ids = due_data_sources(conn)
            elif args.all:
                ids = all_data_sources(conn)
            else:
                ids = list(dict.fromkeys(args.data_source))
                found = {
                    int(row[0])
                    for row in conn.execute(
                        f"SELECT id FROM dra_data_sources WHERE {_TIKTOK_SOURCES} AND id = ANY(%s)",
                        (ids,),
                    )
                }
                missing = [i for i in ids if i not in found]
                if missing:
                    raise RunnerError(
                        f"No TikTok Ads data source with id {', '.join(map(str, missing))}."
                    )
    except psycopg.Error as error:
        raise RunnerError(f"Database error at {db.describe_target()}: {error}") from error
    if not ids:
        LOGGER.info("nothing to sync")
        return EXIT_OK, []
    LOGGER.info("syncing data sources %s (up to %d at once)", ids, settings.max_parallel)
    outcomes = sync_many(settings, ids, require_due=bool(args.due))
    if any(o.status == "failed" for o in outcomes):
        return EXIT_FAILED, outcomes
    if args.data_source and any(o.status == "skipped" for o in outcomes):
        return EXIT_BUSY, outcomes
    return EXIT_OK, outcomes


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        settings = settings_from_args(args)
        code, outcomes = run(settings, args)
    except (RunnerError, crypto.ConnectionDetailsError, db.DatabaseConnectionError) as error:
        print(f"tap-tiktok-ads-sync: {error}", file=sys.stderr)
        return EXIT_USAGE
    for outcome in outcomes:
        if args.json:
            print(json.dumps(outcome.as_json()), flush=True)
        else:
            detail = f" ({outcome.message})" if outcome.message else ""
            print(
                f"data source {outcome.data_source_id}: {outcome.status},"
                f" {outcome.records} records{detail}",
                flush=True,
            )
    return code


__all__ = [
    "LOCK_NAMESPACE",
    "RunnerSettings",
    "SyncOutcome",
    "due_data_sources",
    "main",
    "next_scheduled_sync",
    "sync_data_source",
    "sync_many",
]

if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
