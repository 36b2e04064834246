"""Rows the transform held back for one data source, as a ``sync_error_message``.

The transform quarantines a data source's batch for a platform table when a value does not
fit the platform's column (VARCHAR(n), NUMERIC(p,s), INTEGER) or a NOT NULL column is NULL:
nothing of that batch is written, the other data sources load, and the rows and reasons go
to ``<dbt schema>.dra_quarantine`` (transform/macros/platform_tables.sql). After the run the
runner reads that table, so the data source fails alone, with a message naming the column,
the key, the value and what to do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import psycopg
from psycopg import sql

from dra_tiktok_ads.sync.raw_tables import DEFAULT_RAW_SCHEMA

#: dbt's own schema (transform/profiles/profiles.yml: DBT_SCHEMA, default tiktok_ads_dbt).
DEFAULT_DBT_SCHEMA = "tiktok_ads_dbt"
QUARANTINE_TABLE = "dra_quarantine"
#: Long values (a 600-character name) are shortened in the message, never in the table.
_SHOWN_CHARACTERS = 40


@dataclass(frozen=True)
class HeldBack:
    """One problem of one platform table: an example row and how many rows have it."""

    table_name: str
    row_key: str
    column_name: str
    value: str | None
    reason: str
    rows_affected: int


def dbt_schema(base_env: Mapping[str, str]) -> str:
    return base_env.get("DBT_SCHEMA") or DEFAULT_DBT_SCHEMA


def held_back_rows(conn: psycopg.Connection, schema: str, data_source_id: int) -> list[HeldBack]:
    """The data source's quarantined problems, one example row each; [] without a table."""
    table = sql.Identifier(schema, QUARANTINE_TABLE)
    found = conn.execute("SELECT to_regclass(%s)", (table.as_string(conn),)).fetchone()
    if not found or found[0] is None:
        return []  # no build has run yet on this database
    rows = conn.execute(
        sql.SQL(
            "SELECT DISTINCT ON (table_name, column_name, reason)"
            " table_name, row_key, column_name, value, reason, rows_affected"
            " FROM {} WHERE data_source_id = %s"
            " ORDER BY table_name, column_name, reason, row_key"
        ).format(table),
        (data_source_id,),
    ).fetchall()
    return [HeldBack(*row) for row in rows]


def _shown(value: str | None) -> str:
    if value is None:
        return "NULL"
    if len(value) <= _SHOWN_CHARACTERS:
        return repr(value)
    return f"{value[:20]!r}... ({len(value)} characters)"


def _what_to_do(problem: HeldBack) -> str:
    if problem.reason.startswith("is NULL"):
        return f"TikTok sent no {problem.column_name} for this row"
    if "VARCHAR" in problem.reason:
        return f"shorten the {problem.column_name.replace('_', ' ')} in TikTok Ads Manager"
    return "check this number in TikTok Ads Manager; the platform column cannot hold it"


def quarantine_message(problems: list[HeldBack], raw_schema: str = DEFAULT_RAW_SCHEMA) -> str:
    """One paragraph for ``sync_error_message``, the most useful part first (it is cut at
    1,000 characters)."""
    parts = []
    for problem in problems:
        more = problem.rows_affected - 1
        parts.append(
            f"{problem.table_name}.{problem.column_name} {problem.reason}: value"
            f" {_shown(problem.value)} at key {problem.row_key}"
            f"{f' (and {more} more row(s))' if more > 0 else ''}; {_what_to_do(problem)}"
        )
    tables = sorted({problem.table_name for problem in problems})
    return (
        "Sync failed: rows of this data source do not fit the platform's tables and were held"
        f" back, so {', '.join(tables)} kept their previous rows for it (other data sources"
        f" are not affected): {'; '.join(parts)}. Fix the value at the source (or the raw row"
        f" in schema {raw_schema}); the next sync loads everything held back."
    )


def held_back_message(
    conn: psycopg.Connection, base_env: Mapping[str, str], data_source_id: int
) -> str | None:
    """The failure message when the transform holds back rows of the data source, else None."""
    raw_schema = base_env.get("TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA") or DEFAULT_RAW_SCHEMA
    problems = held_back_rows(conn, dbt_schema(base_env), data_source_id)
    return quarantine_message(problems, raw_schema) if problems else None
