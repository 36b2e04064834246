"""What happened to one data source, and its write-back to ``dra_data_sources``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg

from dra_tiktok_ads.schedule import ScheduleError, next_scheduled_sync, utc_now
from dra_tiktok_ads.sync.settings import LOGGER

MAX_ERROR_MESSAGE = 1000


@dataclass
class SyncOutcome:
    """What happened to one data source."""

    data_source_id: int
    # completed | failed | skipped | deleted (the row went away during the run)
    # | loaded (Dagster: loaded, waiting for the build that records it)
    status: str
    message: str = ""
    records: int = 0
    seconds: float = 0.0
    log_path: Path | None = None
    next_scheduled_sync: datetime | None = None
    tokens_rotated: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "data_source_id": self.data_source_id,
            "status": self.status,
            "message": self.message,
            "records": self.records,
            "seconds": round(self.seconds, 1),
            "log": str(self.log_path) if self.log_path else None,
            "next_scheduled_sync": (
                self.next_scheduled_sync.isoformat() if self.next_scheduled_sync else None
            ),
            "tokens_rotated": self.tokens_rotated,
        }


def record_outcome(conn: psycopg.Connection, outcome: SyncOutcome, started: datetime) -> None:
    """Write the outcome to the data source's row; ``next_scheduled_sync`` counts from
    ``started`` (see :mod:`dra_tiktok_ads.schedule`) and is set on ``outcome`` too."""
    row = conn.execute(
        "SELECT sync_schedule, sync_schedule_time FROM dra_data_sources WHERE id = %s",
        (outcome.data_source_id,),
    ).fetchone()
    schedule, at = (row[0], row[1]) if row else ("manual", None)
    try:
        outcome.next_scheduled_sync = next_scheduled_sync(schedule, at, started)
    except ScheduleError as error:
        outcome.next_scheduled_sync = None
        LOGGER.warning("data source %s: %s Not scheduled again.", outcome.data_source_id, error)
    cursor = conn.execute(
        "UPDATE dra_data_sources SET sync_status = %s, last_sync_at = %s,"
        " sync_error_message = %s, total_records_synced = %s, next_scheduled_sync = %s"
        " WHERE id = %s",
        (
            outcome.status,
            utc_now(),
            outcome.message[:MAX_ERROR_MESSAGE] if outcome.status == "failed" else None,
            outcome.records,
            outcome.next_scheduled_sync,
            outcome.data_source_id,
        ),
    )
    if cursor.rowcount == 0:
        # The platform deleted the data source while it synced: there is no row to report
        # to, and "completed" would be a lie (its rows are gone with it, ON DELETE CASCADE).
        outcome.status = "deleted"
        outcome.next_scheduled_sync = None
        outcome.message = (
            f"data source {outcome.data_source_id} was deleted during its run; nothing of"
            " this run is kept for it"
        )
        LOGGER.warning("%s", outcome.message)
