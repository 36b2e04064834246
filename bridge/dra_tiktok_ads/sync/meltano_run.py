"""The extract-and-load subprocess of one data source (``meltano run tap target``), its logs.

The child runs in its own process group (so a timeout stops Meltano, the tap and the target
together) and, on Linux, dies with the runner. Meltano writes JSON lines
(``--log-format=json``), read as data by :mod:`.meltano_log`; they are redacted before they
reach the log file (mode 0600). A run that stops at start-up on Meltano's system database is
started again. dbt is not part of it: the cycle builds once for every data source
(:mod:`.build`).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from dra_tiktok_ads.sync.meltano_log import LoadReport
from dra_tiktok_ads.sync.settings import LOGGER, RunnerSettings
from tap_tiktok_ads.redaction import redact

#: The ``tiktok-ads`` job without its dbt step: the check (the data source exists and owns its
#: advertisers), then extract and load; the cycle's one dbt build follows (:mod:`.build`).
PIPELINE = ("dra-check:data-source", "tap-tiktok-ads", "target-postgres")
STATE_ID_SUFFIX = "data-source-{id}"
SYSTEM_DB_RETRIES = 2


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
        "--log-format=json",
        *([f"--environment={settings.environment}"] if settings.environment else []),
        "run",
        # The runner's advisory lock is the one that says who syncs a data source: a run
        # killed with the runner leaves Meltano's own record "running" for a while, and
        # without --force the retry at the next tick would be refused for it.
        "--force",
        f"--state-id-suffix={STATE_ID_SUFFIX.format(id=data_source_id)}",
        *(["--full-refresh"] if full_refresh else []),
        *PIPELINE,
    ]


def run_log_path(settings: RunnerSettings, data_source_id: int, started: datetime) -> Path:
    """``<log dir>/data-source-<id>-<UTC start>.log``."""
    stamp = started.strftime("%Y%m%dT%H%M%S")
    return settings.log_dir / f"data-source-{data_source_id}-{stamp}.log"


def prune_run_logs(log_dir: Path, data_source_id: int, keep: int) -> None:
    """Keep the data source's ``keep`` newest logs."""
    if keep <= 0:
        return
    logs = sorted(log_dir.glob(f"data-source-{data_source_id}-*.log"))
    for old in logs[:-keep]:
        with contextlib.suppress(OSError):
            old.unlink()


def run_meltano(
    settings: RunnerSettings,
    command: Sequence[str],
    env: Mapping[str, str],
    *,
    log_path: Path,
    secrets: set[str],
    on_tick: Callable[[], None],
) -> MeltanoResult:
    """Run Meltano, writing its redacted output to ``log_path``; read its JSON events (records,
    errors, failing step), call ``on_tick`` about once a second."""
    report = LoadReport()
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
            umask=0o077,  # Meltano's run files (plugin configs) hold secrets: owner only
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
                report.read(line)
            returncode = process.wait()
        finally:
            done.set()
            if process.poll() is None:
                _kill_group(process)
            watcher.join()
    return MeltanoResult(returncode, report, log_path, timed_out.is_set())


def _kill_group(process: subprocess.Popen[str]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            continue


def run_with_retries(
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
        if result.returncode == 0 or result.timed_out or not _system_db_race(result.report):
            return result
        LOGGER.warning("Meltano system database busy (%s), retrying", log_path.name)
        time.sleep(2 + 3 * attempt)
        log_path = log_path.with_name(f"{log_path.stem}-retry{attempt + 1}.log")
    return run_meltano(settings, command, env, log_path=log_path, secrets=secrets, on_tick=on_tick)


def _system_db_race(report: LoadReport) -> bool:
    """Meltano stopped at start-up on its system database (a concurrent migration)."""
    messages = [report.meltano_error or "", *(e.message for e in report.errors)]
    return any(
        "Cannot upgrade the system database" in text or "database is locked" in text
        for text in messages
    )


@dataclass
class MeltanoResult:
    """How one extract-and-load ended and what its events said."""

    returncode: int
    report: LoadReport
    log_path: Path
    timed_out: bool = False

    @property
    def records(self) -> int:
        """Records the tap extracted (its ``record_count`` metrics)."""
        return self.report.records_extracted

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


def load_error(result: MeltanoResult, *, timeout_s: float) -> str:
    """An actionable one-paragraph message for ``sync_error_message``."""
    log = f"Full log on the sync host: {result.log_path}."
    if result.timed_out:
        return (
            f"Sync timed out after {timeout_s:.0f} s and was stopped; the next run"
            f" resumes from the saved state. Raise --timeout if the account is large. {log}"
        )
    message = result.report.error_message()
    if message is None:
        message = f"meltano run exited with status {result.returncode}."
    if not message.startswith("Sync failed"):
        message = f"Sync failed: {message}"
    return f"{message} {log}"
