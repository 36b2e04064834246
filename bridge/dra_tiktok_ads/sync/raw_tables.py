"""The raw layer target-postgres loads into: its tables, who creates them, whether to refresh.

The table names are the tap's default streams (target-postgres makes one table per stream),
read from the tap so there is no second list to keep in step.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable

import psycopg
from psycopg import sql

from dra_tiktok_ads.sync.settings import LOGGER, RunnerSettings
from tap_tiktok_ads.streams import default_stream_names

#: Key of the lock that makes first loads take turns ("TTKR", 0).
RAW_TABLES_LOCK = (0x54544B52, 0)
#: The tables target-postgres creates in the raw schema, one per stream.
RAW_TABLES = default_stream_names()
DEFAULT_RAW_SCHEMA = "tiktok_ads"


def raw_schema(settings: RunnerSettings) -> str:
    """The schema target-postgres loads into (meltano.yml default, or the env override)."""
    return settings.base_env.get("TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA") or DEFAULT_RAW_SCHEMA


def _raw_tables_exist(conn: psycopg.Connection, schema: str) -> bool:
    row = conn.execute(
        "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = %s AND tablename = ANY(%s)",
        (schema, list(RAW_TABLES)),
    ).fetchone()
    return row is not None and int(row[0]) == len(RAW_TABLES)


def needs_full_refresh(conn: psycopg.Connection, schema: str, data_source_id: int) -> bool:
    """No raw rows for this data source (new or restored database, dropped tables): ignore
    any state found, so bookmarks never hide data the database does not hold."""
    table = sql.Identifier(schema, "advertiser_info")
    row = conn.execute("SELECT to_regclass(%s)", (table.as_string(conn),)).fetchone()
    if not row or row[0] is None:
        # No raw tables: a new database. State kept elsewhere (a Meltano system database
        # that is not this one) may still hold bookmarks for this id.
        return True
    found = conn.execute(
        sql.SQL("SELECT 1 FROM {} WHERE data_source_id = %s LIMIT 1").format(table),
        (data_source_id,),
    ).fetchone()
    return found is None


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
