"""The ``tap-tiktok-ads-sync`` command line: options, selection, exit status, output."""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import psycopg

from dra_tiktok_ads import crypto, db
from dra_tiktok_ads.sync.claim import (
    all_data_sources,
    check_platform_table,
    due_data_sources,
    missing_data_sources,
)
from dra_tiktok_ads.sync.settings import (
    DEFAULT_KEEP_LOGS,
    DEFAULT_MAX_PARALLEL,
    DEFAULT_TIMEOUT_S,
    LOGGER,
    RunnerError,
    RunnerSettings,
)
from dra_tiktok_ads.sync.status import SyncOutcome

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_BUSY = 3


def default_meltano() -> str:
    """The ``meltano`` next to this Python (the project venv), else the one on PATH."""
    beside = Path(sys.executable).parent / "meltano"
    if beside.exists():
        return str(beside)
    return shutil.which("meltano") or "meltano"


def default_project_dir() -> Path:
    """``MELTANO_PROJECT_ROOT``, else this checkout when installed from it, else the cwd."""
    configured = os.environ.get("MELTANO_PROJECT_ROOT")
    if configured:
        return Path(configured)
    checkout = Path(__file__).resolve().parents[3]  # bridge/dra_tiktok_ads/sync/cli.py
    return checkout if (checkout / "meltano.yml").exists() else Path.cwd()


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
    project_dir = (args.project_dir or default_project_dir()).resolve()
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


def selected_data_sources(settings: RunnerSettings, args: argparse.Namespace) -> list[int]:
    """The ids ``--due``, ``--all`` or ``--data-source`` name; an unknown id is an error."""
    try:
        with settings.connect() as conn:
            check_platform_table(conn)
            if not settings.base_env.get("MELTANO_DATABASE_URI"):
                db.ensure_state_schema(conn)  # meltano.yml keeps Meltano's state here
            if args.due:
                return due_data_sources(conn)
            if args.all:
                return all_data_sources(conn)
            ids = list(dict.fromkeys(args.data_source))
            missing = missing_data_sources(conn, ids)
    except psycopg.Error as error:
        raise RunnerError(f"Database error at {db.describe_target()}: {error}") from error
    if missing:
        raise RunnerError(f"No TikTok Ads data source with id {', '.join(map(str, missing))}.")
    return ids


def run(settings: RunnerSettings, args: argparse.Namespace) -> tuple[int, list[SyncOutcome]]:
    """Select, sync and summarise; returns the exit status and the outcomes."""
    ids = selected_data_sources(settings, args)
    if not ids:
        LOGGER.info("nothing to sync")
        return EXIT_OK, []
    LOGGER.info("syncing data sources %s (up to %d at once)", ids, settings.max_parallel)
    # Imported only when there is work: the sync path loads the tap (singer-sdk, ~0.4 s),
    # and the scheduler's every-minute tick usually finds nothing due.
    from dra_tiktok_ads.sync.cycle import sync_many

    outcomes = sync_many(settings, ids, require_due=bool(args.due))
    if any(o.status in ("failed", "deleted") for o in outcomes):
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


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
