"""The Dagster definitions: assets, jobs, sensors and the schedule (see the package docstring)."""

# No `from __future__ import annotations`: Dagster reads the annotations of asset functions.
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import (
    UnresolvedAssetJobDefinition,  # what define_asset_job returns; not re-exported
)
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

from dra_tiktok_ads import crypto
from dra_tiktok_ads.schedule import utc_now
from dra_tiktok_ads.sync.build import build_lock
from dra_tiktok_ads.sync.claim import all_data_sources, data_source_lock, due_data_sources
from dra_tiktok_ads.sync.cli import default_meltano, default_project_dir
from dra_tiktok_ads.sync.data_source_sync import extract_and_load, hand_over
from dra_tiktok_ads.sync.dbt_results import read_run_results
from dra_tiktok_ads.sync.settings import DEFAULT_TIMEOUT_S, RunnerSettings
from dra_tiktok_ads.sync.status import SyncOutcome, record_outcome

PARTITIONS = "tiktok_data_sources"
DATA_SOURCES = dg.DynamicPartitionsDefinition(name=PARTITIONS)
RAW = dg.AssetKey(["tiktok_ads", "raw"])
SYNC_STATUS = dg.AssetKey(["tiktok_ads", "sync_status"])
#: Dagster pool of the loads: its limit (dagster.yaml ``concurrency``) caps the loads running
#: at once across every run worker; the requests they send share the app's QPS budget.
POOL = "tiktok_ads_app"
EXTRACT_LOAD_JOB = "tiktok_ads_extract_load"
BUILD_JOB = "tiktok_ads_build"
#: Metadata key of the sync_status asset: the raw materializations its statuses covered.
THROUGH = "through_storage_id"
_IN_PROGRESS = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


class TikTokSync(dg.ConfigurableResource):  # type: ignore[type-arg]
    """The runner's settings (``tap-tiktok-ads-sync``'s defaults): database from PG*, key from
    ENCRYPTION_KEY, app secret from TIKTOK_ADS_APP_SECRET, read when a step runs."""

    project_dir: str | None = None
    log_dir: str | None = None
    timeout_s: float = DEFAULT_TIMEOUT_S
    start_date: str | None = None

    def runner_settings(self) -> RunnerSettings:
        project = Path(self.project_dir) if self.project_dir else default_project_dir()
        project = project.resolve()
        return RunnerSettings(
            key_hex=crypto.key_from_env(),
            project_dir=project,
            meltano=default_meltano(),
            log_dir=Path(self.log_dir or project / ".meltano" / "logs" / "sync-runner").resolve(),
            timeout_s=self.timeout_s,
            start_date=self.start_date,
        )


@dg.asset(
    key=RAW,
    partitions_def=DATA_SOURCES,
    pool=POOL,
    group_name="tiktok_ads",
    description="One data source's extract-and-load (meltano run tap-tiktok-ads"
    " target-postgres) into the raw schema tiktok_ads.",
)
def tiktok_ads_raw(
    context: dg.AssetExecutionContext, sync: TikTokSync
) -> dg.MaterializeResult[None]:
    settings = sync.runner_settings()
    data_source_id = int(context.partition_key)
    loaded = extract_and_load(settings, data_source_id, require_due=False)
    outcome = loaded if isinstance(loaded, SyncOutcome) else hand_over(loaded)
    if outcome.status != "loaded":
        # Recorded already (failed) or not ours to record (skipped): the run fails, a retry
        # loads again; loads are upserts and state moves only after a window is loaded.
        raise dg.Failure(
            description=f"data source {data_source_id}: {outcome.status}: {outcome.message}"
        )
    started = loaded.started_wall if not isinstance(loaded, SyncOutcome) else None
    return dg.MaterializeResult(
        metadata={
            "records": dg.MetadataValue.int(outcome.records),
            "started": dg.MetadataValue.text(started.isoformat() if started else ""),
            "seconds": dg.MetadataValue.float(round(outcome.seconds, 1)),
            "log": dg.MetadataValue.path(str(outcome.log_path or "")),
            "tokens_rotated": dg.MetadataValue.bool(outcome.tokens_rotated),
        }
    )


class _Translator(DagsterDbtTranslator):
    """Every dbt source (the raw tables) is the one raw asset the loads materialize."""

    def get_asset_key(self, dbt_resource_props: Any) -> dg.AssetKey:
        if dbt_resource_props.get("resource_type") == "source":
            return RAW
        return super().get_asset_key(dbt_resource_props)


def _manifest_is_stale(transform: Path, manifest: Path) -> bool:
    """No manifest, or a model, macro, test or project file newer than it: a manifest that
    lacks a node dbt then runs breaks dagster-dbt's event stream mid-build."""
    if not manifest.exists():
        return True
    parsed_at = manifest.stat().st_mtime
    sources = (
        path
        for folder in ("models", "macros", "tests", "seeds", "snapshots")
        for path in (transform / folder).rglob("*")
        if path.suffix in (".sql", ".yml", ".yaml", ".md")
    )
    return any(
        path.stat().st_mtime > parsed_at for path in (transform / "dbt_project.yml", *sources)
    )


def dbt_project(project_dir: Path | None = None) -> DbtProject:
    """The transform, with its manifest parsed when missing or older than the project (a
    deployment ships one: ``dagster-dbt project prepare-and-package``)."""
    transform = (project_dir or default_project_dir()) / "transform"
    project = DbtProject(project_dir=transform, profiles_dir=transform / "profiles")
    if _manifest_is_stale(transform, project.manifest_path):
        # dagster-dbt's own preparer looks for dbt on PATH; this one is the venv's.
        DbtCliResource(project_dir=project, dbt_executable=dbt_executable()).cli(
            ["parse", "--quiet"], target_path=project.target_path
        ).wait()
    return project


def dbt_executable() -> str:
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.exists() else "dbt"


@dataclass(frozen=True)
class PendingLoad:
    """A load materialized since the last statuses: its data source waits for a build."""

    data_source_id: int
    storage_id: int
    records: int
    started: datetime | None


def pending_loads(instance: dg.DagsterInstance) -> tuple[list[PendingLoad], int]:
    """The latest load of each partition since the last ``sync_status``, and the cursor."""
    cursor = 0
    latest = instance.get_latest_materialization_event(SYNC_STATUS)
    if latest is not None and latest.asset_materialization is not None:
        value = latest.asset_materialization.metadata.get(THROUGH)
        cursor = int(value.value) if value is not None else 0  # type: ignore[arg-type]
    records: list[dg.EventLogRecord] = []
    page: str | None = None
    while True:  # Dagster returns at most 10,000 records a call
        result = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=RAW, after_storage_id=cursor),
            limit=10_000,
            cursor=page,
            ascending=True,
        )
        records += result.records
        if not result.has_more:
            break
        page = result.cursor
    by_source: dict[int, PendingLoad] = {}
    for record in records:
        materialization = record.asset_materialization
        if materialization is None or materialization.partition is None:
            continue
        metadata = materialization.metadata
        started = metadata.get("started")
        by_source[int(materialization.partition)] = PendingLoad(
            int(materialization.partition),
            record.storage_id,
            int(metadata["records"].value) if "records" in metadata else 0,  # type: ignore[arg-type]
            datetime.fromisoformat(str(started.value)) if started and started.value else None,
        )
    through = max((p.storage_id for p in by_source.values()), default=cursor)
    return sorted(by_source.values(), key=lambda p: p.data_source_id), through


def write_statuses(
    settings: RunnerSettings, loads: Sequence[PendingLoad], status: str, message: str = ""
) -> list[int]:
    """Record ``status`` for each load, as the runner does; a data source being loaded again
    right now (its lock is taken) is left to the build that follows that load."""
    written = []
    for load in loads:
        with data_source_lock(settings.connect, load.data_source_id) as conn:
            if conn is None:
                continue
            outcome = SyncOutcome(load.data_source_id, status, message, records=load.records)
            record_outcome(conn, outcome, load.started or utc_now())
            written.append(load.data_source_id)
    return written


def _dbt_assets(project: DbtProject) -> dg.AssetsDefinition:
    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        dagster_dbt_translator=_Translator(
            settings=DagsterDbtTranslatorSettings(enable_duplicate_source_asset_keys=True)
        ),
    )
    def tiktok_ads_dbt(
        context: dg.AssetExecutionContext, dbt: DbtCliResource, sync: TikTokSync
    ) -> Iterator[Any]:
        """One ``dbt build`` for every data source loaded, under the runner's build lock."""
        settings = sync.runner_settings()
        with build_lock(settings.connect) as waited:
            context.log.info("build lock taken after %.1f s", waited)
            invocation = dbt.cli(["build"], context=context, raise_on_error=False)
            yield from invocation.stream()
            ok = invocation.is_successful()
        if not ok:
            results = read_run_results(invocation.target_path)
            message = results.error_message(invocation.process.returncode or 1)
            loads, _ = pending_loads(context.instance)
            write_statuses(settings, loads, "failed", message)
            raise dg.Failure(description=message)

    return tiktok_ads_dbt


def _status_asset(dbt_defs: dg.AssetsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        key=SYNC_STATUS,
        deps=list(dbt_defs.keys),
        group_name="tiktok_ads",
        description="Writes completed back to dra_data_sources for the loads the build covered.",
    )
    def tiktok_ads_sync_status(
        context: dg.AssetExecutionContext, sync: TikTokSync
    ) -> dg.MaterializeResult[None]:
        settings = sync.runner_settings()
        loads, through = pending_loads(context.instance)
        written = write_statuses(settings, loads, "completed")
        context.log.info("completed: data sources %s", written)
        return dg.MaterializeResult(
            metadata={
                THROUGH: dg.MetadataValue.int(through),
                "completed": dg.MetadataValue.json(written),
            }
        )

    return tiktok_ads_sync_status


def _due_sensor(job: UnresolvedAssetJobDefinition) -> dg.SensorDefinition:
    @dg.sensor(
        name="tiktok_ads_due_data_sources",
        job=job,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
    def due(context: dg.SensorEvaluationContext, sync: TikTokSync) -> dg.SensorResult:
        """Partitions follow dra_data_sources; one run per due data source."""
        settings = sync.runner_settings()
        with settings.connect() as conn:
            enabled = {str(i) for i in all_data_sources(conn)}
            rows = conn.execute(
                "SELECT id FROM dra_data_sources WHERE data_type::text = 'tiktok_ads'"
            ).fetchall()
            known = {str(row[0]) for row in rows}
            due_rows = conn.execute(
                "SELECT id, next_scheduled_sync FROM dra_data_sources WHERE id = ANY(%s)"
                " ORDER BY id",
                (due_data_sources(conn),),
            ).fetchall()
        existing = set(context.instance.get_dynamic_partitions(PARTITIONS))
        added = sorted(enabled - existing, key=int)
        removed = sorted(existing - known, key=int)
        # A run per due data source, keyed by its slot: later ticks do not ask again until
        # its status (and so its next slot) is written.
        requests = [
            dg.RunRequest(
                partition_key=str(i), run_key=f"{i}:{slot.isoformat() if slot else 'first'}"
            )
            for i, slot in due_rows
        ]
        return dg.SensorResult(
            run_requests=requests,
            dynamic_partitions_requests=[
                DATA_SOURCES.build_add_request(added),
                DATA_SOURCES.build_delete_request(removed),
            ],
        )

    return due


def _build_sensor(job: UnresolvedAssetJobDefinition) -> dg.SensorDefinition:
    @dg.sensor(
        name="tiktok_ads_build_after_loads",
        job=job,
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
    def build_after_loads(context: dg.SensorEvaluationContext) -> dg.SkipReason | dg.RunRequest:
        """One build once loads are done: every load materialized since the last statuses and
        none still queued or running."""
        loads, through = pending_loads(context.instance)
        if not loads:
            return dg.SkipReason("no load since the last build")
        running = context.instance.get_run_records(
            dg.RunsFilter(job_name=EXTRACT_LOAD_JOB, statuses=_IN_PROGRESS), limit=1
        )
        if running:
            return dg.SkipReason("loads still running; building after them")
        return dg.RunRequest(run_key=f"build-through-{through}")

    return build_after_loads


def build_definitions(project_dir: Path | None = None) -> dg.Definitions:
    project = dbt_project(project_dir)
    dbt_defs = _dbt_assets(project)
    status = _status_asset(dbt_defs)
    extract_load = dg.define_asset_job(
        EXTRACT_LOAD_JOB,
        selection=dg.AssetSelection.assets(RAW),
        partitions_def=DATA_SOURCES,
    )
    build = dg.define_asset_job(
        BUILD_JOB, selection=dg.AssetSelection.assets(dbt_defs, SYNC_STATUS)
    )
    return dg.Definitions(
        assets=[tiktok_ads_raw, dbt_defs, status],
        jobs=[extract_load, build],
        sensors=[_due_sensor(extract_load), _build_sensor(build)],
        schedules=[
            dg.ScheduleDefinition(
                name="tiktok_ads_daily_build", job=build, cron_schedule="0 4 * * *"
            )
        ],
        resources={
            "dbt": DbtCliResource(project_dir=project, dbt_executable=dbt_executable()),
            "sync": TikTokSync(project_dir=os.environ.get("MELTANO_PROJECT_ROOT")),
        },
    )


defs = build_definitions()
