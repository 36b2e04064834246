"""The cycle's one ``dbt build``, under one PostgreSQL advisory lock.

After every due data source has been extracted and loaded, one incremental build upserts the
raw rows of all of them (each platform table keeps a watermark per data source). The lock is
session-level on a dedicated connection: a second runner (another host, another tick) waits
for the build in progress instead of building the same tables at the same moment, and a
killed runner's lock dies with its connection.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import psycopg

from dra_tiktok_ads.sync.dbt_results import BuildResults, logged_error, read_run_results
from dra_tiktok_ads.sync.settings import LOGGER, RunnerSettings
from tap_tiktok_ads.redaction import redact

#: ``pg_advisory_lock(int, int)`` key of the build: "TTKB", 0.
BUILD_LOCK = (0x54544B42, 0)
TRANSFORM_DIR = "transform"
#: The dbt build never needs a data source's or the platform's secrets.
_DROPPED_PREFIXES = ("TAP_TIKTOK_ADS_", "TIKTOK_ADS_", "ENCRYPTION_KEY")


@dataclass
class BuildOutcome:
    """How the cycle's build ended."""

    ok: bool
    message: str = ""
    seconds: float = 0.0
    waited_s: float = 0.0
    results: BuildResults = field(default_factory=BuildResults)
    log_path: Path | None = None


@contextlib.contextmanager
def build_lock(connect: Callable[[], psycopg.Connection]) -> Iterator[float]:
    """Hold the build lock; yields the seconds spent waiting for it."""
    conn = connect()
    try:
        started = time.monotonic()
        row = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", BUILD_LOCK).fetchone()
        if not row or not row[0]:
            LOGGER.info("waiting for another runner's dbt build to finish")
            conn.execute("SELECT pg_advisory_lock(%s, %s)", BUILD_LOCK)
        waited = time.monotonic() - started
        try:
            yield waited
        finally:
            with contextlib.suppress(psycopg.Error):
                conn.execute("SELECT pg_advisory_unlock(%s, %s)", BUILD_LOCK)
    finally:
        conn.close()


def dbt_executable(settings: RunnerSettings) -> str:
    """The dbt Meltano installed for the ``dbt-postgres`` utility, else the one beside this
    Python, else ``dbt`` on PATH."""
    for candidate in (
        settings.project_sys_dir / "utilities" / "dbt-postgres" / "venv" / "bin" / "dbt",
        Path(sys.executable).parent / "dbt",
    ):
        if candidate.exists():
            return str(candidate)
    return "dbt"


def build_env(settings: RunnerSettings, target_path: Path) -> dict[str, str]:
    """The runner's environment without per-account settings and the platform key."""
    env = {k: v for k, v in settings.base_env.items() if not k.startswith(_DROPPED_PREFIXES)}
    env["DBT_TARGET_PATH"] = str(target_path)
    env["DBT_LOG_PATH"] = str(target_path / "logs")
    return env


def build_dir(settings: RunnerSettings) -> Path:
    """Where the build's ``run_results.json`` and dbt's own logs go (one build at a time)."""
    return settings.log_dir / "dbt-target"


def run_dbt_build(
    settings: RunnerSettings,
    *,
    secrets: set[str],
    started: datetime,
) -> BuildOutcome:
    """``dbt build`` of the transform, under the build lock; never raises for dbt's trouble."""
    stamp = started.strftime("%Y%m%dT%H%M%S")
    log_path = settings.log_dir / f"dbt-build-{stamp}.log"
    target_path = build_dir(settings)
    command = [
        dbt_executable(settings),
        "--log-format",
        "json",
        "build",
        "--project-dir",
        str(settings.project_dir / TRANSFORM_DIR),
        "--profiles-dir",
        str(settings.project_dir / TRANSFORM_DIR / "profiles"),
        "--target-path",
        str(target_path),
        # Held-back rows fail their own data sources after the build (sync/problems.py), not
        # the build every other data source of the cycle needs.
        "--vars",
        "{quarantine_severity: warn}",
    ]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    target_path.mkdir(parents=True, exist_ok=True)
    with build_lock(settings.connect) as waited:
        (target_path / "run_results.json").unlink(missing_ok=True)
        clock = time.monotonic()
        errors: list[str] = []
        try:
            returncode = _run_logged(
                settings,
                command,
                target_path=target_path,
                log_path=log_path,
                secrets=secrets,
                errors=errors,
            )
        except (OSError, subprocess.SubprocessError) as error:
            return BuildOutcome(False, f"the transform (dbt build) could not start: {error}")
        seconds = time.monotonic() - clock
        results = read_run_results(target_path)
    results.logged_errors = errors
    outcome = BuildOutcome(
        ok=returncode == 0 and not results.failures,
        seconds=seconds,
        waited_s=waited,
        results=results,
        log_path=log_path,
    )
    if not outcome.ok:
        outcome.message = redact(results.error_message(returncode), secrets)
    LOGGER.info(
        "dbt build: %s in %.1f s (%d nodes ok, %d failed, %d skipped; waited %.1f s)",
        "ok" if outcome.ok else "failed",
        seconds,
        results.count("success", "pass", "warn"),
        len(results.failures),
        results.count("skipped"),
        waited,
    )
    return outcome


def _run_logged(
    settings: RunnerSettings,
    command: list[str],
    *,
    target_path: Path,
    log_path: Path,
    secrets: set[str],
    errors: list[str],
) -> int:
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as log:
        process = subprocess.Popen(
            command,
            cwd=settings.project_dir,
            env=build_env(settings, target_path),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        )
        assert process.stdout is not None
        try:
            for raw in process.stdout:
                line = redact(raw, secrets)
                log.write(line)
                message = logged_error(line)
                if message:
                    errors.append(message)
            return process.wait(timeout=settings.timeout_s)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
