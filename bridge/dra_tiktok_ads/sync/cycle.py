"""A sync cycle: extract and load each data source (up to ``max_parallel`` at once), then ONE
dbt build for all of them, then every outcome recorded.

A data source whose load fails fails alone: the others are built and completed. Its status
is written after the build, so ``completed`` means its rows reached the platform tables. The
build runs when at least one load worked, under the build lock (:mod:`.build`).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from dra_tiktok_ads.schedule import utc_now
from dra_tiktok_ads.sync.build import BuildOutcome, run_dbt_build
from dra_tiktok_ads.sync.catalog import CycleCatalog, cycle_catalog
from dra_tiktok_ads.sync.data_source_sync import LoadedDataSource, extract_and_load, finish
from dra_tiktok_ads.sync.settings import LOGGER, RunnerSettings
from dra_tiktok_ads.sync.status import SyncOutcome


def sync_many(
    settings: RunnerSettings, data_source_ids: Sequence[int], *, require_due: bool
) -> list[SyncOutcome]:
    """One cycle over ``data_source_ids``; one failure stops nothing."""
    if not data_source_ids:
        return []
    with cycle_catalog() as catalog:
        loads = load_all(settings, data_source_ids, require_due=require_due, catalog=catalog)
    pending = [load for load in loads if isinstance(load, LoadedDataSource)]
    build: BuildOutcome | None = None
    try:
        build = build_after(settings, pending)
    finally:
        outcomes = [
            finish(load, build) if isinstance(load, LoadedDataSource) else load for load in loads
        ]
    return outcomes


def load_all(
    settings: RunnerSettings,
    data_source_ids: Sequence[int],
    *,
    require_due: bool,
    catalog: CycleCatalog | None = None,
) -> list[LoadedDataSource | SyncOutcome]:
    """Extract and load every data source, up to ``max_parallel`` at once; runs after the
    first that loads reuse its tap catalog (``catalog``)."""
    workers = max(1, min(settings.max_parallel, len(data_source_ids)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sync") as pool:
        futures = [
            pool.submit(extract_and_load, settings, ds, require_due=require_due, catalog=catalog)
            for ds in data_source_ids
        ]
        loads: list[LoadedDataSource | SyncOutcome] = []
        for data_source_id, future in zip(data_source_ids, futures, strict=True):
            try:
                loads.append(future.result())
            except Exception as error:  # one source must not stop the others
                LOGGER.exception("data source %s: unexpected error", data_source_id)
                loads.append(
                    SyncOutcome(data_source_id, "failed", f"{type(error).__name__}: {error}")
                )
        return loads


def build_after(
    settings: RunnerSettings, pending: Sequence[LoadedDataSource]
) -> BuildOutcome | None:
    """The cycle's dbt build, if any data source loaded; None when none did."""
    loaded = [load for load in pending if load.loaded]
    if not loaded:
        return None
    secrets = set().union(*(load.secrets for load in pending))
    LOGGER.info(
        "building the platform tables for data sources %s",
        [load.data_source_id for load in loaded],
    )
    try:
        return run_dbt_build(settings, secrets=secrets, started=utc_now())
    except Exception as error:  # the database went away: every loaded source fails, recorded
        LOGGER.exception("dbt build: unexpected error")
        return BuildOutcome(False, f"the transform (dbt build) could not run: {error}")
