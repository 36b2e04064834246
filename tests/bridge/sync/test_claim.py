"""Selecting and claiming data sources (real PostgreSQL, no pipeline)."""

from __future__ import annotations

from datetime import timedelta

import psycopg

from dra_tiktok_ads.details import ConnectionDetails
from dra_tiktok_ads.registration import register_data_source
from dra_tiktok_ads.sync.claim import LOCK_NAMESPACE, due_data_sources
from dra_tiktok_ads.sync.data_source_sync import sync_data_source
from dra_tiktok_ads.sync.settings import RunnerSettings


def test_locked_or_not_due_data_sources_are_skipped(
    db_settings: RunnerSettings, db_connection: psycopg.Connection
) -> None:
    settings = db_settings
    ids = [
        register_data_source(
            db_connection,
            advertiser_id=f"700{i}",
            advertiser_name=f"A{i}",
            details=ConnectionDetails(f"token-{i}", (f"700{i}",)),
            key_hex=settings.key_hex,
            sync_schedule=schedule,
        )
        for i, schedule in enumerate(("daily", "hourly", "manual", "weekly"))
    ]
    daily, hourly, manual, weekly = ids
    db_connection.execute(
        "UPDATE dra_data_sources SET next_scheduled_sync = (now() AT TIME ZONE 'UTC') + %s"
        " WHERE id = %s",
        (timedelta(hours=2), weekly),
    )
    db_connection.execute(
        "UPDATE dra_data_sources SET next_scheduled_sync = (now() AT TIME ZONE 'UTC') - %s"
        " WHERE id = %s",
        (timedelta(minutes=1), hourly),
    )
    # Unset next run counts as due (a newly connected account); manual and future are not.
    assert due_data_sources(db_connection) == [daily, hourly]

    with settings.connect() as holder:  # another runner is syncing `daily`
        holder.execute("SELECT pg_advisory_lock(%s, %s)", (LOCK_NAMESPACE, daily)).fetchone()
        outcome = sync_data_source(settings, daily, require_due=True)
        assert outcome.status == "skipped"
        assert "already running" in outcome.message
    not_due = sync_data_source(settings, weekly, require_due=True)
    assert (not_due.status, not_due.message) == ("skipped", "no longer due")
    row = db_connection.execute(
        "SELECT sync_status FROM dra_data_sources WHERE id = ANY(%s)", ([daily, weekly],)
    ).fetchall()
    assert {r[0] for r in row} == {None}, "skipped data sources are not touched"
    assert manual not in due_data_sources(db_connection)
