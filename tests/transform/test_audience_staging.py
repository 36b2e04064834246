"""The audience staging models: with tiktok_ads_extra_streams on they build over raw tables
shaped like the tap's audience streams (columns from the tap's schemas)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
import pytest

from tap_tiktok_ads.client import TikTokStream
from tap_tiktok_ads.streams import STREAM_TYPES
from tap_tiktok_ads.streams.defined_reports import DefinedReportStream
from tests.transform import harness, raw_layer

AUDIENCE = [s for s in STREAM_TYPES if issubclass(s, DefinedReportStream)]
#: The other streams the var turns on (ads, ad and advertiser reports): the transform's
#: start-up check wants their raw tables too, so they are created empty.
OTHER_EXTRA = [
    s for s in STREAM_TYPES if not s.selected_by_default and not issubclass(s, DefinedReportStream)
]
SQL_TYPES = {
    "integer": "BIGINT",
    "number": "NUMERIC",
    "string": "TEXT",
    "boolean": "BOOLEAN",
    "array": "JSONB",
    "object": "JSONB",
}
ON = '{"tiktok_ads_extra_streams": true}'


def column_type(prop: dict[str, Any]) -> str:
    if prop.get("format") == "date":
        return "DATE"
    types = prop.get("type") or ["string"]
    (kind,) = [t for t in ([types] if isinstance(types, str) else types) if t != "null"]
    return SQL_TYPES[kind]


def create_raw_table(conn: psycopg.Connection, stream: type[TikTokStream]) -> None:
    """The table target-postgres would create for the stream (plus data_source_id)."""
    columns = [f"{name} {column_type(p)}" for name, p in stream.schema["properties"].items()]
    keys = ", ".join(["data_source_id", *stream.primary_keys])
    conn.execute(
        f"CREATE TABLE {raw_layer.RAW_SCHEMA}.{stream.name} (data_source_id BIGINT, "
        f"{', '.join(columns)}, _sdc_batched_at TIMESTAMP, _sdc_sequence BIGINT, "
        f"PRIMARY KEY ({keys}))"
    )


def sample_row(stream: type[DefinedReportStream], data_source_id: int, n: int) -> dict[str, Any]:
    row: dict[str, Any] = {"data_source_id": data_source_id, "_sdc_sequence": n}
    for name, prop in stream.schema["properties"].items():
        kind = column_type(prop)
        row[name] = (
            dt.date(2026, 11, 1)
            if kind == "DATE"
            else n
            if kind == "BIGINT"
            else "1.50"
            if kind == "NUMERIC"
            else f"{name}-{n}"
        )
    row["_sdc_batched_at"] = dt.datetime(2026, 11, 2, 8, 0)
    return row


@pytest.fixture
def warehouse(postgres_server, tmp_path):
    with (
        harness.scratch_database(postgres_server) as env,
        psycopg.connect(harness.conninfo(env), autocommit=True) as conn,
    ):
        ids = harness.register_sources(conn)
        raw_layer.create_raw_tables(conn)
        yield conn, next(iter(ids.values())), harness.DbtRunner(env, tmp_path)


def test_audience_models_build_when_turned_on(warehouse):
    """Off by default is checked by every other transform test: their builds have no audience
    raw tables, so an enabled audience model or source would fail them."""
    conn, data_source_id, dbt = warehouse
    for other in OTHER_EXTRA:
        create_raw_table(conn, other)
    for stream in AUDIENCE:
        create_raw_table(conn, stream)
        for n in (1, 2):
            row = sample_row(stream, data_source_id, n)
            names = ", ".join(row)
            marks = ", ".join(["%s"] * len(row))
            conn.execute(
                f"INSERT INTO {raw_layer.RAW_SCHEMA}.{stream.name} ({names}) VALUES ({marks})",
                list(row.values()),
            )
    result = dbt.build("--vars", ON, "--select", "path:models/staging/audience")
    assert "WARN=0 ERROR=0 SKIP=0" in result.stdout
    for stream in AUDIENCE:
        rows = conn.execute(
            f"SELECT data_source_id, stat_date, spend, conversions "
            f"FROM tiktok_ads_dbt.stg_tiktok_ads__{stream.name} ORDER BY conversions"
        ).fetchall()
        assert rows == [
            (data_source_id, dt.date(2026, 11, 1), 1.5, 1),
            (data_source_id, dt.date(2026, 11, 1), 1.5, 2),
        ], stream.name
