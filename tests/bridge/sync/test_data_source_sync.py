"""One data source's run when it cannot start (real PostgreSQL, no pipeline)."""

from __future__ import annotations

import psycopg

from dra_tiktok_ads.details import ConnectionDetails
from dra_tiktok_ads.registration import register_data_source
from dra_tiktok_ads.sync.data_source_sync import sync_data_source
from dra_tiktok_ads.sync.settings import RunnerSettings


def test_undecryptable_details_fail_that_source_with_a_clear_message(
    db_settings: RunnerSettings, db_connection: psycopg.Connection
) -> None:
    settings = db_settings
    data_source_id = register_data_source(
        db_connection,
        advertiser_id="7009",
        advertiser_name="Other key",
        details=ConnectionDetails("token-x", ("7009",)),
        key_hex="cd" * 32,  # encrypted with another key
        sync_schedule="hourly",
    )
    outcome = sync_data_source(settings, data_source_id, require_due=False)
    assert outcome.status == "failed"
    row = db_connection.execute(
        "SELECT sync_status, sync_error_message, next_scheduled_sync FROM dra_data_sources"
        " WHERE id = %s",
        (data_source_id,),
    ).fetchone()
    assert row is not None
    status, message, next_run = row
    assert status == "failed"
    assert "ENCRYPTION_KEY" in message
    assert next_run is not None  # retried at the next slot, not every minute
    assert not settings.log_dir.exists()
