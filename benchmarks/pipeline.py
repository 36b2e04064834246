"""PostgreSQL for the benchmark, data source registration, and ``meltano run``."""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import psutil
import psycopg
from psycopg import sql

from devstack.postgres import LocalPostgres, conninfo

REPO_ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
PG_KEYS = ("PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE")
BENCH_KEY_HEX = "00" * 32  # encrypts the benchmark data source's (simulator) details only
_ISOLATED_PREFIXES = ("TAP_TIKTOK_ADS_", "TARGET_POSTGRES_", "MELTANO_", "DBT_", "TIKTOK_ADS_")
PLUGIN_VENVS = (
    ".meltano/extractors/tap-tiktok-ads/venv",
    ".meltano/loaders/target-postgres/venv",
    ".meltano/utilities/dbt-postgres/venv",
)


@contextlib.contextmanager
def postgres_server(local_dir: Path) -> Iterator[tuple[dict[str, str], str]]:
    """PG* of the server to use (yours when PGHOST is set) and how it was obtained."""
    if os.environ.get("PGHOST"):
        env = {k: os.environ[k] for k in PG_KEYS if k in os.environ}
        env.setdefault("PGPASSWORD", "bench")
        yield env, f"your server {env['PGHOST']}:{env.get('PGPORT', '5432')} (PG* variables)"
        return
    server = LocalPostgres(data_dir=local_dir / "pg")
    server.stop()  # left running by an interrupted benchmark with the same --out
    server.start()
    try:
        yield server.libpq_env(), f"private PostgreSQL in {local_dir / 'pg'}"
    finally:
        server.stop()


def fresh_database(server_env: Mapping[str, str], name: str) -> dict[str, str]:
    """Drop and create database ``name``; return its PG* variables."""
    admin = {**server_env, "PGDATABASE": server_env.get("PGDATABASE") or "postgres"}
    with psycopg.connect(conninfo(admin), autocommit=True) as conn:
        ident = sql.Identifier(name)
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(ident))
    return {**server_env, "PGDATABASE": name}


def register(pg_env: Mapping[str, str], advertiser_ids: list[str], api_url: str) -> int:
    from dra_tiktok_ads.details import ConnectionDetails
    from dra_tiktok_ads.registration import (
        ensure_platform_objects,
        register_data_source,
    )

    with psycopg.connect(conninfo(pg_env), autocommit=True) as conn:
        ensure_platform_objects(conn)
        return register_data_source(
            conn,
            advertiser_id=advertiser_ids[0],
            advertiser_name="Benchmark",
            details=ConnectionDetails("sim-access-token", tuple(advertiser_ids), api_url=api_url),
            key_hex=BENCH_KEY_HEX,
        )


def missing_plugins() -> list[str]:
    return [venv for venv in PLUGIN_VENVS if not (REPO_ROOT / venv).is_dir()]


def meltano_env(
    pg_env: Mapping[str, str],
    tap_settings: Mapping[str, Any],
    work_dir: Path,
    pg_options: str = "",
) -> dict[str, str]:
    """Isolated from the shell's TAP_/TARGET_/MELTANO_/DBT_ variables; own state and dbt dirs."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(_ISOLATED_PREFIXES)}
    tap = {
        f"TAP_TIKTOK_ADS_{key.upper()}": value if isinstance(value, str) else json.dumps(value)
        for key, value in tap_settings.items()
    }
    return (
        base
        | dict(pg_env)
        | tap
        | {
            "MELTANO_DATABASE_URI": f"sqlite:///{work_dir / 'meltano.db'}",
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DBT_TARGET_PATH": str(work_dir / "dbt-target"),
            "DBT_LOG_PATH": str(work_dir / "dbt-logs"),
            "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        | ({"PGOPTIONS": pg_options} if pg_options else {})
    )


_METRIC = re.compile(r"METRIC: (\{.*\})")
# Meltano re-renders the metrics of plugins with the structured-logging capability.
_STRUCTURED = re.compile(r"tap-tiktok-ads METRIC\s.*metric_name=record_count metric_value=(\d+)")


def records_from_log(text: str) -> dict[str, int]:
    """The tap's record_count metrics, summed per stream."""
    records: dict[str, int] = {}
    for match in _METRIC.finditer(text):
        with contextlib.suppress(ValueError):
            metric = json.loads(match.group(1))
            if metric.get("metric") == "record_count" and metric.get("type") == "counter":
                stream = str(metric.get("tags", {}).get("stream", "?"))
                records[stream] = records.get(stream, 0) + int(metric.get("value", 0))
    if not records:
        counts = [int(m.group(1)) for m in _STRUCTURED.finditer(text)]
        if counts:
            records["all streams"] = sum(counts)
    return records


def dbt_results(work_dir: Path) -> list[dict[str, Any]]:
    """(model, status, seconds, rows_affected) of the last dbt invocation."""
    path = work_dir / "dbt-target" / "run_results.json"
    if not path.exists():
        return []
    results = json.loads(path.read_text(encoding="utf-8")).get("results", [])
    return [
        {
            "node": r.get("unique_id", ""),
            "status": r.get("status"),
            "seconds": float(r.get("execution_time") or 0.0),
            "rows": (r.get("adapter_response") or {}).get("rows_affected"),
        }
        for r in results
    ]


def row_counts(pg_env: Mapping[str, str], schema: str) -> dict[str, int]:
    with psycopg.connect(conninfo(pg_env), autocommit=True) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = %s AND table_type = 'BASE TABLE' ORDER BY 1",
                (schema,),
            )
        ]
        counts = {}
        for table in tables:
            row = conn.execute(
                sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, table))
            ).fetchone()
            counts[table] = int(row[0]) if row else 0
    return counts


_NODE = re.compile(r'"node_id": "([^"]+)"')


def active_dbt_nodes(pg_env: Mapping[str, str]) -> list[str]:
    """dbt nodes with a statement running now, and for how long (from pg_stat_activity)."""
    with psycopg.connect(conninfo(pg_env), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT extract(epoch FROM now() - query_start), query FROM pg_stat_activity"
            " WHERE datname = current_database() AND state = 'active'"
            " AND pid <> pg_backend_pid()"
        ).fetchall()
    result = []
    for seconds, query in rows:
        match = _NODE.search(query or "")
        if match:
            result.append(f"{match.group(1)} ({float(seconds):.0f} s in one statement)")
    return result


def server_cpu_seconds(pg_env: Mapping[str, str]) -> float | None:
    """CPU seconds the PostgreSQL server has used so far (postmaster, its live processes and
    the backends it reaped), or None when the server is not on this machine or not ours."""
    try:
        with psycopg.connect(conninfo(pg_env), autocommit=True) as conn:
            row = conn.execute("SELECT pg_backend_pid()").fetchone()
        assert row is not None
        postmaster = psutil.Process(int(row[0])).parent()
        if postmaster is None:
            return None
        times = postmaster.cpu_times()
        total: float = times.user + times.system + times.children_user + times.children_system
        for child in postmaster.children():
            with contextlib.suppress(psutil.Error):
                child_times = child.cpu_times()
                total += child_times.user + child_times.system
        return total
    except (psycopg.Error, psutil.Error):
        return None
