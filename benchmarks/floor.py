"""The floor: a bare Python loop doing the pipeline's unavoidable work, nothing else.

It replays the exact requests the tap made (taken from the simulator's request log), one at a
time with a plain ``requests.Session``, parses each body with the standard ``json`` module,
turns the rows into tuples (``"-"`` becomes NULL) and COPYs them into UNLOGGED tables with
psycopg. No Singer messages, no SDK, no schema handling, no upsert, no dbt. Whatever the real
pipeline spends beyond this is overhead of its design and its libraries.

Run by the benchmark as its own process (so its CPU time and memory are measured alone)::

    python -m benchmarks.floor --api-url URL --pages pages.json --dsn DSN
"""

from __future__ import annotations

import argparse
import json
import time
from operator import itemgetter
from pathlib import Path
from typing import Any

import psycopg
import requests
from psycopg import sql

SCHEMA = "bench_floor"
TEXT_METRICS = {"campaign_name", "objective_type", "adgroup_name", "campaign_id"}


class Sink:
    """One UNLOGGED table per kind of page, created from the first rows seen."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn
        self.tables: dict[str, tuple[sql.Composed, Any]] = {}

    def _table(self, key: str, row: dict[str, Any]) -> tuple[sql.Composed, Any]:
        if key in self.tables:
            return self.tables[key]
        name = sql.Identifier(SCHEMA, f"t{len(self.tables)}")
        if "dimensions" in row:
            dims, metrics = list(row["dimensions"]), list(row["metrics"])
            columns = [(d, "timestamp" if d == "stat_time_day" else "text") for d in dims]
            columns += [(m, "text" if m in TEXT_METRICS else "numeric") for m in metrics]
            get_dims, get_metrics = itemgetter(*dims), itemgetter(*metrics)

            def to_tuple(r: dict[str, Any]) -> tuple[Any, ...]:
                values = (*get_dims(r["dimensions"]), *get_metrics(r["metrics"]))
                return tuple(None if v == "-" else v for v in values)

        else:
            fields = list(row)
            columns = [(f, "text") for f in fields]

            def to_tuple(r: dict[str, Any]) -> tuple[Any, ...]:
                # Real entity rows leave fields out at times (secondary_status, Promote
                # campaigns' budget): a missing field is NULL.
                values = [r.get(f) for f in fields]
                return tuple(
                    None if v == "-" else (json.dumps(v) if isinstance(v, dict | list) else v)
                    for v in values
                )

        self.conn.execute(
            sql.SQL("CREATE UNLOGGED TABLE {} ({})").format(
                name,
                sql.SQL(", ").join(
                    sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t)) for c, t in columns
                ),
            )
        )
        copy = sql.SQL("COPY {} ({}) FROM STDIN").format(
            name, sql.SQL(", ").join(sql.Identifier(c) for c, _ in columns)
        )
        self.tables[key] = (copy, to_tuple)
        return self.tables[key]

    def write(self, key: str, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        copy_sql, to_tuple = self._table(key, rows[0])
        with self.conn.cursor() as cursor, cursor.copy(copy_sql) as copy:
            for row in rows:
                copy.write_row(to_tuple(row))


def run(
    api_url: str, pages: list[tuple[str, dict[str, str]]], dsn: str, token: str
) -> dict[str, Any]:
    started = time.perf_counter()
    session = requests.Session()
    session.headers["Access-Token"] = token
    records = 0
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(SCHEMA)))
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(SCHEMA)))
        sink = Sink(conn)
        for endpoint, params in pages:
            response = session.get(f"{api_url}{endpoint}", params=params, timeout=60)
            body = json.loads(response.content)
            if body.get("code") != 0:
                msg = f"{endpoint}: code {body.get('code')} {body.get('message')}"
                raise RuntimeError(msg)
            rows = (body.get("data") or {}).get("list") or []
            sink.write(f"{endpoint}:{params.get('data_level', '')}", rows)
            records += len(rows)
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(SCHEMA)))
    return {"records": records, "requests": len(pages), "seconds": time.perf_counter() - started}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.floor", description=__doc__)
    parser.add_argument("--api-url", required=True)
    parser.add_argument("--pages", type=Path, required=True)
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--token", default="sim-access-token")
    args = parser.parse_args(argv)
    pages = [(str(e), dict(p)) for e, p in json.loads(args.pages.read_text(encoding="utf-8"))]
    print(json.dumps(run(args.api_url, pages, args.dsn, args.token)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
