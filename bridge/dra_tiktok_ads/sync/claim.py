"""Which data sources to sync, and one runner at a time per data source.

A data source is synced under a PostgreSQL advisory lock held on a dedicated connection,
then claimed: its row is re-checked under the lock (still a TikTok source, still due) and
marked ``running``. Two schedulers that listed the same candidates never both run it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg

from dra_tiktok_ads import db
from dra_tiktok_ads.schedule import AUTOMATIC_SCHEDULES
from dra_tiktok_ads.sync.settings import RunnerError

#: First key of ``pg_try_advisory_lock(int, int)``; the second is the data source id.
#: ("TTKS" in ASCII; the two-int key space never collides with one-bigint locks.)
LOCK_NAMESPACE = 0x54544B53

_TIKTOK_SOURCES = "data_type::text = 'tiktok_ads'"
_DUE = (
    "sync_enabled AND sync_schedule IN ({schedules})"
    " AND (next_scheduled_sync IS NULL OR next_scheduled_sync <= (now() AT TIME ZONE 'UTC'))"
).format(schedules=", ".join(f"'{s}'" for s in AUTOMATIC_SCHEDULES))


@dataclass(frozen=True)
class ClaimedDataSource:
    """What a claim read from the row: the encrypted details and the sync settings."""

    envelope: Any
    sync_config: dict[str, Any] = field(default_factory=dict)


def check_platform_table(conn: psycopg.Connection) -> None:
    """Stop with one line when the database is not the platform's."""
    row = conn.execute("SELECT to_regclass('dra_data_sources')").fetchone()
    if row is None or row[0] is None:
        raise RunnerError(
            f"There is no dra_data_sources table in {db.describe_target()}: point PG* at the"
            " platform database (register data sources with tap-tiktok-ads-register)."
        )


def due_data_sources(conn: psycopg.Connection) -> list[int]:
    """Enabled TikTok data sources whose ``next_scheduled_sync`` has passed (or is unset)."""
    rows = conn.execute(
        f"SELECT id FROM dra_data_sources WHERE {_TIKTOK_SOURCES} AND {_DUE}"
        " ORDER BY next_scheduled_sync NULLS FIRST, id"
    ).fetchall()
    return [int(row[0]) for row in rows]


def all_data_sources(conn: psycopg.Connection) -> list[int]:
    """Every enabled TikTok data source."""
    rows = conn.execute(
        f"SELECT id FROM dra_data_sources WHERE {_TIKTOK_SOURCES} AND sync_enabled ORDER BY id"
    ).fetchall()
    return [int(row[0]) for row in rows]


def missing_data_sources(conn: psycopg.Connection, ids: Sequence[int]) -> list[int]:
    """The ids among ``ids`` that are not TikTok data sources, in the order given."""
    found = {
        int(row[0])
        for row in conn.execute(
            f"SELECT id FROM dra_data_sources WHERE {_TIKTOK_SOURCES} AND id = ANY(%s)",
            (list(ids),),
        )
    }
    return [i for i in ids if i not in found]


@contextlib.contextmanager
def data_source_lock(
    connect: Callable[[], psycopg.Connection], data_source_id: int
) -> Iterator[psycopg.Connection | None]:
    """A dedicated connection holding the data source's advisory lock, or None if taken.

    Session-level advisory locks are released when the connection ends, including when the
    process dies, so a crashed runner never blocks a data source.
    """
    conn = connect()
    try:
        row = conn.execute(
            "SELECT pg_try_advisory_lock(%s, %s)", (LOCK_NAMESPACE, data_source_id)
        ).fetchone()
        if not row or not row[0]:
            yield None
            return
        try:
            yield conn
        finally:
            with contextlib.suppress(psycopg.Error):
                conn.execute("SELECT pg_advisory_unlock(%s, %s)", (LOCK_NAMESPACE, data_source_id))
    finally:
        conn.close()


def claim(
    conn: psycopg.Connection, data_source_id: int, *, require_due: bool
) -> ClaimedDataSource | None:
    """Under the lock: re-check the row (still due?) and mark it running. None = skip."""
    condition = f" AND {_DUE}" if require_due else ""
    row = conn.execute(
        "UPDATE dra_data_sources SET sync_status = 'running', sync_error_message = NULL"
        f" WHERE id = %s AND {_TIKTOK_SOURCES}{condition}"
        " RETURNING connection_details, coalesce(sync_config, '{}'::jsonb)",
        (data_source_id,),
    ).fetchone()
    if row is None:
        return None
    return ClaimedDataSource(row[0], row[1] if isinstance(row[1], dict) else {})
