"""Many data sources in one go, up to ``max_parallel`` at once; one failure stops nothing."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from dra_tiktok_ads.sync.data_source_sync import sync_data_source
from dra_tiktok_ads.sync.settings import LOGGER, RunnerSettings
from dra_tiktok_ads.sync.status import SyncOutcome


def sync_many(
    settings: RunnerSettings, data_source_ids: Sequence[int], *, require_due: bool
) -> list[SyncOutcome]:
    """Sync each data source, up to ``max_parallel`` at once; one failure stops nothing."""
    if not data_source_ids:
        return []
    workers = max(1, min(settings.max_parallel, len(data_source_ids)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sync") as pool:
        futures = [
            pool.submit(sync_data_source, settings, ds, require_due=require_due)
            for ds in data_source_ids
        ]
        outcomes = []
        for data_source_id, future in zip(data_source_ids, futures, strict=True):
            try:
                outcomes.append(future.result())
            except Exception as error:  # one source must not stop the others
                LOGGER.exception("data source %s: unexpected error", data_source_id)
                outcomes.append(
                    SyncOutcome(data_source_id, "failed", f"{type(error).__name__}: {error}")
                )
        return outcomes
