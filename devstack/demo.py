"""The embedded-default demo behind ``make demo``: the real Meltano pipeline, end to end.

* Database: the ``PG*`` variables (shell or ``.env``) when ``PGHOST`` is set, else a private
  PostgreSQL kept in ``.local/pg-demo`` (persistent, so a re-run finds its data and state).
* TikTok: the real API when ``TAP_TIKTOK_ADS_ACCESS_TOKEN`` or ``TAP_TIKTOK_ADS_TOKEN_STORE_PATH``
  is set, else the local simulator (``python -m tiktok_sim``) on a free port.
* Each advertiser is registered as a DRA data source (idempotent: a re-run finds it), then
  ``meltano run --state-id-suffix data-source-<id> tiktok-ads`` runs per data source, exactly
  as the platform runs it. ``TAP_TIKTOK_ADS_DATA_SOURCE_ID`` set: one run for that data source.
* Finally it prints the rows per raw and mart table and the marketing channel row.

Re-running is safe: loads upsert by primary key and state makes the next run incremental.
Secrets are never printed. The full Meltano log of every run goes to ``.local/logs/``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import psycopg
import requests
from psycopg import sql

from devstack.postgres import LocalPostgres, conninfo, free_port
from dra_tiktok_ads.db import ensure_state_schema
from dra_tiktok_ads.sync.run_output import record_count_in_line

REPO_ROOT = Path(__file__).resolve().parent.parent
LOCAL_DIR = REPO_ROOT / ".local"
VENV_BIN = Path(sys.executable).parent
DEMO_DATABASE = "tiktok_ads_demo"
RAW_SCHEMA = "tiktok_ads"
MART_SCHEMA = "dra_tiktok_ads"
JOB = "tiktok-ads"
SIM_SIZES = {"advertisers": 2, "campaigns": 4, "adgroups": 8, "days": 30}
SIM_SEED = 42
SIM_CREDENTIALS = {
    "TAP_TIKTOK_ADS_ACCESS_TOKEN": "sim-access-token",
    "TAP_TIKTOK_ADS_APP_ID": "sim-app-id",
    "TAP_TIKTOK_ADS_APP_SECRET": "sim-app-secret",
}
PRODUCTION_API_URL = "https://business-api.tiktok.com/open_api/v1.3"


class DemoError(RuntimeError):
    """A step failed; the message says what to do."""


def say(message: str = "") -> None:
    print(message, flush=True)


def step(number: int, total: int, message: str) -> None:
    say(f"\n[{number}/{total}] {message}")


# Environment -----------------------------------------------------------------------------


def read_dotenv(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines of a Meltano ``.env`` (comments and blanks skipped)."""
    if not path.is_file():
        return {}
    values: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def effective_environment() -> dict[str, str]:
    """What Meltano will see: the shell's variables over those in ``.env``."""
    return read_dotenv(REPO_ROOT / ".env") | dict(os.environ)


def has_real_credentials(env: Mapping[str, str]) -> bool:
    return bool(
        env.get("TAP_TIKTOK_ADS_ACCESS_TOKEN") or env.get("TAP_TIKTOK_ADS_TOKEN_STORE_PATH")
    )


def describe_database(env: Mapping[str, str]) -> str:
    return (
        f"{env.get('PGUSER') or '(user)'}@{env.get('PGHOST')}:{env.get('PGPORT') or 5432}"
        f"/{env.get('PGDATABASE') or '(default)'}"
    )


# Database ----------------------------------------------------------------------------------


@contextlib.contextmanager
def demo_database(env: Mapping[str, str]) -> Iterator[dict[str, str]]:
    """Yield the PG* variables of the database to load into, starting one if needed."""
    if env.get("PGHOST"):
        pg_env = {
            k: env[k]
            for k in ("PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE")
            if k in env
        }
        pg_env.setdefault("PGPASSWORD", "")
        if not pg_env["PGPASSWORD"]:
            raise DemoError(
                "PGHOST is set but PGPASSWORD is empty: target-postgres needs a password "
                "(any string under trust auth). Set PGPASSWORD, or unset PGHOST for the demo's "
                "private PostgreSQL."
            )
        say(f"      Using your database {describe_database(pg_env)} (from PG* variables)")
        yield pg_env
        return
    data_dir = LOCAL_DIR / "pg-demo"
    server = LocalPostgres(data_dir=data_dir)
    server.stop()  # a cluster left running by an interrupted demo
    reused = (data_dir / "PG_VERSION").exists()
    server.start()
    try:
        admin = server.libpq_env()
        with psycopg.connect(conninfo(admin), autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (DEMO_DATABASE,)
            ).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DEMO_DATABASE)))
        pg_env = server.libpq_env(DEMO_DATABASE)
        say(
            f"      Private PostgreSQL {'(re-used) ' if reused else ''}in {rel(data_dir)}, "
            f"listening on {server.host}:{server.port}, database {DEMO_DATABASE}"
        )
        yield pg_env
    finally:
        server.stop()
        say(f"\nPrivate PostgreSQL stopped (data kept in {rel(data_dir)}; `make demo` re-uses it).")


# TikTok API ---------------------------------------------------------------------------------


@dataclass
class ApiSource:
    """Where the tap reads from, and the TAP_TIKTOK_ADS_* variables that say so."""

    api_url: str
    tap_env: dict[str, str]
    simulated: bool


@contextlib.contextmanager
def tiktok_api(env: Mapping[str, str], log_dir: Path) -> Iterator[ApiSource]:
    if has_real_credentials(env):
        api_url = env.get("TAP_TIKTOK_ADS_API_URL") or PRODUCTION_API_URL
        say(f"      Using your TikTok credentials (TAP_TIKTOK_ADS_*), API {api_url}")
        yield ApiSource(api_url=api_url, tap_env={}, simulated=False)
        return
    port = free_port()
    args = [f"--{name}={value}" for name, value in SIM_SIZES.items()]
    command = [sys.executable, "-m", "tiktok_sim", f"--port={port}", f"--seed={SIM_SEED}", *args]
    log_path = log_dir / "simulator.log"
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=log, text=True
        )
        try:
            api_url = _wait_for_simulator(process, log_path)
            sizes = " x ".join(f"{value} {name}" for name, value in SIM_SIZES.items())
            say(f"      TikTok API simulator (seed {SIM_SEED}, {sizes}) at {api_url}")
            tap_env = {**SIM_CREDENTIALS, "TAP_TIKTOK_ADS_API_URL": api_url}
            yield ApiSource(api_url=api_url, tap_env=tap_env, simulated=True)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_for_simulator(process: subprocess.Popen[str], log_path: Path) -> str:
    """Read the simulator's stdout until it prints its API base URL."""
    assert process.stdout is not None
    deadline = time.monotonic() + 60
    for line in process.stdout:
        match = re.search(r"https?://\S+", line)
        if match:
            url = match.group(0).rstrip("/")
            return url if url.endswith("/open_api/v1.3") else f"{url}/open_api/v1.3"
        if time.monotonic() > deadline:
            break
    raise DemoError(f"The simulator did not start; see {rel(log_path)}.")


def access_token_and_ids(env: Mapping[str, str]) -> tuple[str, list[str]]:
    """The access token and advertiser ids from TAP_TIKTOK_ADS_*, else the token store."""
    token = env.get("TAP_TIKTOK_ADS_ACCESS_TOKEN", "")
    ids = [str(i) for i in json.loads(env.get("TAP_TIKTOK_ADS_ADVERTISER_IDS") or "[]")]
    store_path = env.get("TAP_TIKTOK_ADS_TOKEN_STORE_PATH")
    if store_path:
        from tap_tiktok_ads.auth import TokenStore

        stored = TokenStore(REPO_ROOT / store_path).load()
        if stored is not None:
            token = stored.access_token or token
            ids = ids or list(stored.advertiser_ids)
    return token, ids


def fetch_advertisers(api: ApiSource, env: Mapping[str, str]) -> list[tuple[str, str]]:
    """(advertiser_id, name) of every advertiser the run should cover."""
    merged = {**env, **api.tap_env}
    token, ids = access_token_and_ids(merged)
    headers = {"Access-Token": token}
    if ids:
        data = _api_get(api, "/advertiser/info/", {"advertiser_ids": json.dumps(ids)}, headers)
        names = {str(a["advertiser_id"]): str(a.get("name") or "") for a in data.get("list", [])}
        return [(i, names.get(i) or f"TikTok Ads {i}") for i in ids]
    params = {
        "app_id": merged.get("TAP_TIKTOK_ADS_APP_ID", ""),
        "secret": merged.get("TAP_TIKTOK_ADS_APP_SECRET", ""),
    }
    if not (params["app_id"] and params["secret"]):
        raise DemoError(
            "Set TAP_TIKTOK_ADS_ADVERTISER_IDS (a JSON array), or TAP_TIKTOK_ADS_APP_ID and "
            "TAP_TIKTOK_ADS_APP_SECRET so the demo can list your advertisers."
        )
    data = _api_get(api, "/oauth2/advertiser/get/", params, headers)
    return [(str(a["advertiser_id"]), str(a["advertiser_name"])) for a in data.get("list", [])]


def _api_get(
    api: ApiSource, path: str, params: Mapping[str, str], headers: Mapping[str, str]
) -> dict[str, Any]:
    response = requests.get(f"{api.api_url}{path}", params=params, headers=headers, timeout=60)
    body: dict[str, Any] = response.json() if response.content else {}
    if response.status_code != 200 or body.get("code") != 0:
        raise DemoError(
            f"TikTok API {path} failed: HTTP {response.status_code}, code {body.get('code')}, "
            f"{body.get('message')!r}. Check the access token and app id/secret."
        )
    data: dict[str, Any] = body.get("data") or {}
    return data


# Data sources -------------------------------------------------------------------------------


def encryption_key(env: Mapping[str, str]) -> str:
    """ENCRYPTION_KEY, else a demo key generated once into .local/ (mode 0600)."""
    if env.get("ENCRYPTION_KEY"):
        return env["ENCRYPTION_KEY"]
    path = LOCAL_DIR / "demo-encryption-key"
    say(
        f"      ENCRYPTION_KEY is not set: connection details are encrypted with a demo key "
        f"({rel(path)}). Set ENCRYPTION_KEY to the platform's key for a platform database."
    )
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_hex(32), encoding="utf-8")
    return path.read_text(encoding="utf-8").strip()


def register_data_sources(
    pg_env: Mapping[str, str],
    advertisers: list[tuple[str, str]],
    details: Mapping[str, Any],
    key_hex: str,
) -> list[tuple[int, str, str]]:
    """Create or find one data source per advertiser; (id, advertiser_id, name) each."""
    from dra_tiktok_ads.details import ConnectionDetails
    from dra_tiktok_ads.registration import register_data_source

    registered = []
    with psycopg.connect(conninfo(pg_env), autocommit=True) as conn:
        for advertiser_id, name in advertisers:
            data_source_id = register_data_source(
                conn,
                advertiser_id=advertiser_id,
                advertiser_name=name,
                details=ConnectionDetails.from_json({**details, "advertiser_ids": [advertiser_id]}),
                key_hex=key_hex,
            )
            registered.append((data_source_id, advertiser_id, name))
    return registered


# Meltano ------------------------------------------------------------------------------------

# Lines worth showing a person while `meltano run` works; everything goes to the log file.
_PROGRESS = (
    (re.compile(r"Beginning sync of '(\w+)' in (\w+) mode"), "extract  {0} ({1})"),
    # target-postgres's "completed processing ... (0 records, 5 batch manifests)" counts
    # messages, not rows: the rows are counted in the database after the run instead.
    (re.compile(r"OK created \S+ (?:\S+ )?model (\S+)"), "dbt      built {0}"),
    (re.compile(r"\d+ of \d+ (?:ERROR|FAIL|WARN)\b.*?(?= \.\.\.|$)"), "dbt      {m}"),
    (re.compile(r"Done\. PASS=\d+.*?TOTAL=\d+"), "dbt      {m}"),
    (re.compile(r"Incremental state has been updated"), "meltano  state saved"),
)
_ERROR = re.compile(r"\[(error|critical)\s*\]|Traceback|Error:|ERROR")


@dataclass
class RunResult:
    seconds: float
    records: dict[str, int]
    log_path: Path


def meltano_run(
    env: Mapping[str, str], data_source_id: int, log_dir: Path, *, full_refresh: bool
) -> RunResult:
    command = [
        str(VENV_BIN / "meltano"),
        "run",
        f"--state-id-suffix=data-source-{data_source_id}",
        *(["--full-refresh"] if full_refresh else []),
        JOB,
    ]
    log_path = log_dir / f"meltano-run-data-source-{data_source_id}.log"
    shown = " ".join(command[1:])
    say(f"      $ meltano {shown}   (log: {rel(log_path)})")
    started = time.monotonic()
    records: dict[str, int] = {}
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env={**env, "PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert process.stdout is not None
        _follow(process.stdout, log, records)
        code = process.wait()
    seconds = time.monotonic() - started
    if code != 0:
        tail = log_path.read_text(encoding="utf-8").splitlines()[-25:]
        say("      ... last lines of the log:")
        for line in tail:
            say(f"        {line[:240]}")
        raise DemoError(f"`meltano run` failed (exit {code}); full log: {rel(log_path)}")
    rows = raw_rows(env, data_source_id)
    per_table = ", ".join(f"{table} {count}" for table, count in rows.items())
    say(
        f"      done in {seconds:.1f} s: {records.get('total', 0)} rows extracted and loaded"
        f" (upserted) into {RAW_SCHEMA}; data source {data_source_id} now has"
        f" {sum(rows.values())} raw rows ({per_table or 'no tables yet'})"
    )
    return RunResult(seconds=seconds, records=records, log_path=log_path)


def raw_rows(env: Mapping[str, str], data_source_id: int) -> dict[str, int]:
    """Rows of one data source per raw table, after its run."""
    counts: dict[str, int] = {}
    with psycopg.connect(conninfo(env), autocommit=True) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.columns WHERE table_schema = %s"
            " AND column_name = 'data_source_id' ORDER BY table_name",
            (RAW_SCHEMA,),
        ).fetchall()
        for (table,) in tables:
            row = conn.execute(
                sql.SQL("SELECT count(*) FROM {} WHERE data_source_id = %s").format(
                    sql.Identifier(RAW_SCHEMA, table)
                ),
                (data_source_id,),
            ).fetchone()
            counts[table] = int(row[0]) if row else 0
    return counts


def _follow(stream: IO[str], log: IO[str], records: dict[str, int]) -> None:
    for line in stream:
        log.write(line)
        count = record_count_in_line(line)
        if count:
            records["total"] = records.get("total", 0) + count
            continue
        for pattern, template in _PROGRESS:
            match = pattern.search(line)
            if match:
                say("      " + template.format(*match.groups(), m=match.group(0)))
                break
        else:
            if _ERROR.search(line) and "| INFO " not in line:
                say(f"      ! {line.strip()[:240]}")


# Report -------------------------------------------------------------------------------------


def print_report(
    pg_env: Mapping[str, str], data_source_ids: list[int], start: date, end: date
) -> None:
    with psycopg.connect(conninfo(pg_env), autocommit=True) as conn:
        for schema in (RAW_SCHEMA, MART_SCHEMA):
            _print_table_counts(conn, schema, data_source_ids)
        _print_channel_rows(conn, data_source_ids, start, end)


def _print_table_counts(conn: psycopg.Connection, schema: str, ids: list[int]) -> None:
    tables = conn.execute(
        "SELECT c.table_name, bool_or(c.column_name = 'data_source_id')"
        " FROM information_schema.columns c JOIN information_schema.tables t"
        "   USING (table_schema, table_name)"
        " WHERE c.table_schema = %s AND t.table_type = 'BASE TABLE'"
        " GROUP BY c.table_name ORDER BY c.table_name",
        (schema,),
    ).fetchall()
    if not tables:
        say(f"      {schema}: no tables yet")
        return
    say(f"      {schema}:")
    for table, has_source in tables:
        name = sql.Identifier(schema, table)
        total = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(name)).fetchone()
        line = f"        {table:<32} {total[0] if total else 0:>8} rows"
        if has_source and ids:
            per_source = conn.execute(
                sql.SQL(
                    "SELECT data_source_id, count(*) FROM {} WHERE data_source_id = ANY(%s)"
                    " GROUP BY 1 ORDER BY 1"
                ).format(name),
                (ids,),
            ).fetchall()
            line += "   (" + ", ".join(f"data source {s}: {n}" for s, n in per_source) + ")"
        say(line)


def _print_channel_rows(conn: psycopg.Connection, ids: list[int], start: date, end: date) -> None:
    exists = conn.execute(
        "SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
        " WHERE n.nspname = %s AND p.proname = 'channel_metrics'",
        (MART_SCHEMA,),
    ).fetchone()
    if not exists:
        say(f"\n      Channel comparison: {MART_SCHEMA}.channel_metrics() does not exist yet.")
        return
    say(f"\n      Channel comparison, {start} .. {end} ({MART_SCHEMA}.channel_metrics):")
    header: list[str] = []
    rows: list[list[str]] = []
    for data_source_id in ids:
        cursor = conn.execute(
            f"SELECT * FROM {MART_SCHEMA}.channel_metrics(%s, %s, %s)",
            (data_source_id, start, end),
        )
        header = [column.name for column in cursor.description or []]
        rows += [[_fmt(value) for value in row] for row in cursor.fetchall()]
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    for cells in (header, *rows):
        say(
            "        "
            + "  ".join(cell.rjust(width) for cell, width in zip(cells, widths, strict=True))
        )


def _fmt(value: object) -> str:
    if isinstance(value, float | Decimal):
        return f"{value:.4f}".rstrip("0").rstrip(".")
    return str(value)


# Main ---------------------------------------------------------------------------------------


def rel(path: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(path.relative_to(REPO_ROOT))
    return str(path)


def needs_full_refresh(pg_env: Mapping[str, str], data_source_id: int) -> bool:
    """No raw rows for this data source (new database, dropped tables): ignore old state."""
    with psycopg.connect(conninfo(pg_env), autocommit=True) as conn:
        table = conn.execute("SELECT to_regclass('tiktok_ads.campaign_performance')").fetchone()
        if not table or table[0] is None:
            return True
        row = conn.execute(
            "SELECT 1 FROM tiktok_ads.campaign_performance WHERE data_source_id = %s LIMIT 1",
            (data_source_id,),
        ).fetchone()
        return row is None


def run_demo() -> None:
    total_steps = 5
    started = time.monotonic()
    env = effective_environment()
    log_dir = LOCAL_DIR / "logs" / datetime.now().strftime("demo-%Y%m%d-%H%M%S")
    log_dir.mkdir(parents=True, exist_ok=True)
    say("TikTok Ads -> PostgreSQL -> dbt: the Meltano pipeline, end to end")

    step(1, total_steps, "Database")
    with demo_database(env) as pg_env:
        step(2, total_steps, "TikTok Marketing API")
        with tiktok_api(env, log_dir) as api:
            run_env = {**env, **pg_env, **api.tap_env}
            end = date.today()
            if api.simulated or not run_env.get("TAP_TIKTOK_ADS_START_DATE"):
                start = end - timedelta(days=SIM_SIZES["days"] - 1)
                run_env["TAP_TIKTOK_ADS_START_DATE"] = start.isoformat()
            start = date.fromisoformat(run_env["TAP_TIKTOK_ADS_START_DATE"])

            step(3, total_steps, "Data sources (dra_data_sources)")
            with psycopg.connect(conninfo(pg_env), autocommit=True) as conn:
                ensure_state_schema(conn)  # meltano.yml keeps Meltano's state there
            targets = _data_sources(run_env, pg_env, api)

            step(
                4,
                total_steps,
                f"meltano run {JOB} (tap-tiktok-ads -> target-postgres -> dbt build)",
            )
            for data_source_id, advertiser_ids in targets:
                shown = ", ".join(advertiser_ids or ["as configured"])
                say(f"\n      data source {data_source_id}, advertiser {shown}:")
                run_env_source = {**run_env, "TAP_TIKTOK_ADS_DATA_SOURCE_ID": str(data_source_id)}
                if advertiser_ids:
                    run_env_source["TAP_TIKTOK_ADS_ADVERTISER_IDS"] = json.dumps(advertiser_ids)
                meltano_run(
                    run_env_source,
                    data_source_id,
                    log_dir,
                    full_refresh=needs_full_refresh(pg_env, data_source_id),
                )

        step(5, total_steps, "What landed in PostgreSQL")
        print_report(pg_env, [source for source, _ in targets], start, end)
    say(f"\nDemo finished in {time.monotonic() - started:.0f} s. Run `make demo` again any time.")


def _data_sources(
    run_env: dict[str, str], pg_env: Mapping[str, str], api: ApiSource
) -> list[tuple[int, list[str] | None]]:
    """(data source id, its advertiser ids, or None to keep TAP_TIKTOK_ADS_ADVERTISER_IDS)."""
    if run_env.get("TAP_TIKTOK_ADS_DATA_SOURCE_ID"):
        data_source_id = int(run_env["TAP_TIKTOK_ADS_DATA_SOURCE_ID"])
        ids = json.loads(run_env.get("TAP_TIKTOK_ADS_ADVERTISER_IDS") or "[]")
        say(f"      Using TAP_TIKTOK_ADS_DATA_SOURCE_ID={data_source_id} (nothing registered)")
        return [(data_source_id, [str(i) for i in ids] or None)]
    advertisers = fetch_advertisers(api, run_env)
    if not advertisers:
        raise DemoError("The token is not authorized for any advertiser.")
    details = {
        "access_token": access_token_and_ids(run_env)[0],
        "app_id": run_env.get("TAP_TIKTOK_ADS_APP_ID", ""),
        "api_url": api.api_url,
    }
    registered = register_data_sources(pg_env, advertisers, details, encryption_key(run_env))
    for data_source_id, advertiser_id, name in registered:
        say(f"      data source {data_source_id}: {name!r} (advertiser {advertiser_id})")
    return [(data_source_id, [advertiser_id]) for data_source_id, advertiser_id, _ in registered]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.demo", description=__doc__)
    parser.parse_args(argv)
    try:
        run_demo()
    except (DemoError, RuntimeError, psycopg.Error, requests.RequestException) as error:
        say(f"\nDemo failed: {error}")
        return 1
    except KeyboardInterrupt:
        say("\nInterrupted.")
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
