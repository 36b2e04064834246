"""The platform objects as a database's catalog shows them, in a compact form to compare.

The platform fixture is the contract itself (bridge/dra_tiktok_ads/sql/platform_contract.sql,
run through registration.ensure_platform_objects on a scratch database): tests compare what
dbt's on-run-start, registration and a full build leave with `contract_catalog`, and
test_platform_contract.py pins the contract to the platform's specification. No column is
written down here.
"""

from __future__ import annotations

import functools

import psycopg

from dra_tiktok_ads import registration
from tests.transform import harness

ENUM = "dra_data_sources_data_type_enum"
# A relation (as regclass prints it: dra_data_sources, dra_tiktok_ads.<table>) or
# "enum <name>" -> its columns in order, then its constraints and other indexes, sorted;
# or the enum's values in order.
Catalog = dict[str, list[str]]

# The DDL's spellings, so the catalog reads like the platform's CREATE TABLE statements.
_DDL_SPELLING = {
    "character varying": "varchar",
    "timestamp without time zone": "timestamp",
    "time without time zone": "time",
}
_PLATFORM_TABLES = (
    "SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE c.relkind = 'r'"
    " AND (n.nspname = 'dra_tiktok_ads' OR c.oid = to_regclass('dra_data_sources'))"
)


def _ddl(text: str) -> str:
    for catalog_name, ddl_name in _DDL_SPELLING.items():
        text = text.replace(catalog_name, ddl_name)
    return text


def _column(name: str, type_name: str, not_null: bool, default: str | None) -> str:
    if type_name == "integer" and not_null and (default or "").startswith("nextval("):
        return f"{name} serial"
    return (
        f"{name} {_ddl(type_name)}"
        + (" NOT NULL" if not_null else "")
        + ("" if default is None else f" DEFAULT {_ddl(default)}")
    )


def read_catalog(conn: psycopg.Connection) -> Catalog:
    """The enum's values and every platform table (dra_data_sources and the tables of schema
    dra_tiktok_ads; views are the transform's, not the platform's)."""
    catalog: Catalog = {
        f"enum {ENUM}": [
            row[0]
            for row in conn.execute(
                "SELECT e.enumlabel::text FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid"
                " WHERE t.typname = %s ORDER BY e.enumsortorder",
                (ENUM,),
            )
        ]
    }
    for relation, name, type_name, not_null, default in conn.execute(
        "SELECT a.attrelid::regclass::text, a.attname::text, format_type(a.atttypid, a.atttypmod),"
        " a.attnotnull, pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a"
        " LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
        f" WHERE a.attrelid IN ({_PLATFORM_TABLES}) AND a.attnum > 0 AND NOT a.attisdropped"
        " ORDER BY 1, a.attnum"
    ):
        catalog.setdefault(relation, []).append(_column(name, type_name, not_null, default))
    for relation, definition in conn.execute(
        "SELECT conrelid::regclass::text, pg_get_constraintdef(oid) FROM pg_constraint"
        f" WHERE conrelid IN ({_PLATFORM_TABLES})"
        " UNION ALL SELECT i.indrelid::regclass::text,"
        "  'INDEX ' || split_part(pg_get_indexdef(i.indexrelid), ' USING ', 2) FROM pg_index i"
        f" WHERE i.indrelid IN ({_PLATFORM_TABLES})"
        "  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)"
        " ORDER BY 1, 2"
    ):
        catalog[relation].append(definition)
    return catalog


def contract_catalog(server_env: dict[str, str]) -> Catalog:
    """The catalog of a database that holds nothing but the platform contract."""
    return _contract_catalog(tuple(sorted(server_env.items())))


@functools.cache
def _contract_catalog(server_env: tuple[tuple[str, str], ...]) -> Catalog:
    with (
        harness.scratch_database(dict(server_env)) as env,
        psycopg.connect(harness.conninfo(env), autocommit=True) as conn,
    ):
        registration.ensure_platform_objects(conn)
        return read_catalog(conn)
