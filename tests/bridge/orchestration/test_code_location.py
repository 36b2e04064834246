"""The Dagster code location in-process (ephemeral instance) against the simulator and
PostgreSQL: partitions from dra_data_sources, a load per partition, one dbt build through
dagster-dbt, statuses written back; a load retried after a failure gives the same tables."""

from __future__ import annotations

import os
import tempfile
from datetime import timedelta
from types import ModuleType
from typing import Any

import dagster as dg
import pytest

from tests.bridge.sync.test_runner_end_to_end import _ISOLATED, Platform

pytestmark = [
    pytest.mark.e2e,
    # Dagster's and dagster-dbt's own notices about their APIs and dependencies.
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::dagster._utils.warnings.BetaWarning"),
    pytest.mark.filterwarnings("ignore::dagster._utils.warnings.PreviewWarning"),
]

REPORT = "/report/integrated/get/"
# Everything of a platform row but its serial id, its data source and when it was written.
_NOT_COMPARED = {"id", "data_source_id", "created_at", "updated_at", "synced_at"}


@pytest.fixture
def location(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The code location with the test's platform in the environment (as a worker has it)."""
    for name in list(os.environ):
        if name.startswith(_ISOLATED) or name == "ENCRYPTION_KEY":
            monkeypatch.delenv(name)
    for name, value in platform.env().items():
        monkeypatch.setenv(name, value)
    # tempfile caches the folder it found first; the runs' private folders go to the test's.
    monkeypatch.setattr(tempfile, "tempdir", str(platform.temp_dir))
    from dra_tiktok_ads.dagster_location import definitions

    return definitions


def _resources(location: ModuleType, platform: Platform) -> dict[str, Any]:
    from dagster_dbt import DbtCliResource

    return {
        "sync": location.TikTokSync(log_dir=str(platform.log_dir)),
        "dbt": DbtCliResource(
            project_dir=location.dbt_project(), dbt_executable=location.dbt_executable()
        ),
    }


def _platform_rows(platform: Platform, table: str, data_source_id: int) -> list[tuple[Any, ...]]:
    with platform.connect() as conn:
        columns = [
            row[0]
            for row in conn.execute(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_schema = 'dra_tiktok_ads' AND table_name = %s"
                " ORDER BY ordinal_position",
                (table,),
            )
            if row[0] not in _NOT_COMPARED
        ]
        listed = ", ".join(columns)
        return conn.execute(
            f"SELECT {listed} FROM dra_tiktok_ads.{table} WHERE data_source_id = %s"
            f" ORDER BY {listed}",
            (data_source_id,),
        ).fetchall()


def test_partitions_load_one_build_and_a_retried_load_gives_the_same_tables(
    location: ModuleType, platform: Platform
) -> None:
    first, second = platform.sim.dataset.advertiser_ids
    # Two data sources of the same advertiser: the same data, so the same platform rows.
    clean = platform.register(first, project_id=1, schedule="hourly")
    retried = platform.register(first, project_id=2, schedule="daily")
    later = platform.register(second, project_id=1, schedule="daily", next_run=timedelta(days=1))
    defs = location.defs
    instance = dg.DagsterInstance.ephemeral()
    resources = _resources(location, platform)

    # The sensor keeps the partitions in step with dra_data_sources and asks for the due ones.
    due = defs.resolve_sensor_def("tiktok_ads_due_data_sources")
    result = due(dg.build_sensor_context(instance=instance, resources=resources))
    added = result.dynamic_partitions_requests[0].partition_keys
    assert sorted(added, key=int) == [str(clean), str(retried), str(later)]
    assert [r.partition_key for r in result.run_requests] == [str(clean), str(retried)]
    instance.add_dynamic_partitions(location.PARTITIONS, list(added))

    raw = [location.tiktok_ads_raw]
    loaded = dg.materialize(raw, partition_key=str(clean), instance=instance, resources=resources)
    assert loaded.success
    # Loaded, not built yet: the status waits for the build.
    assert platform.row(clean)["sync_status"] == "running"
    assert platform.mart_rows(clean) == 0

    # The first attempt of the other partition fails mid-extract (a fatal API error on the
    # reports, after the entities were loaded); the retry, faults gone, succeeds.
    platform.sim.faults.api_error(code=40001, n=1000, endpoint=REPORT)
    failed = dg.materialize(
        raw,
        partition_key=str(retried),
        instance=instance,
        resources=resources,
        raise_on_error=False,
    )
    assert not failed.success
    row = platform.row(retried)
    assert row["sync_status"] == "failed"
    assert row["sync_error_message"].startswith("Sync failed"), row["sync_error_message"]
    platform.sim.faults.clear()
    again = dg.materialize(raw, partition_key=str(retried), instance=instance, resources=resources)
    assert again.success

    # Loads done: the build sensor asks for one build, which dagster-dbt runs.
    build_sensor = defs.resolve_sensor_def("tiktok_ads_build_after_loads")
    request = build_sensor(dg.build_sensor_context(instance=instance))
    assert isinstance(request, dg.RunRequest), request
    job = defs.resolve_job_def(location.BUILD_JOB)
    built = job.execute_in_process(instance=instance, resources=resources)
    assert built.success

    # One build covered both data sources; statuses written as the runner writes them.
    mart = dg.AssetKey(["dra_tiktok_ads", "campaign_performance"])
    assert len(instance.fetch_materializations(mart, limit=10).records) == 1
    for data_source_id in (clean, retried):
        row = platform.row(data_source_id)
        assert row["sync_status"] == "completed", row
        assert row["sync_error_message"] is None
        assert row["next_scheduled_sync"] is not None
        assert (
            platform.mart_rows(data_source_id)
            == platform.raw_rows(data_source_id)["campaign_performance"]
        )
        assert platform.mart_rows(data_source_id) > 0
    assert platform.row(later)["sync_status"] is None
    for table in ("advertiser_info", "campaign_performance", "ad_group_performance"):
        assert _platform_rows(platform, table, retried) == _platform_rows(platform, table, clean)

    # Nothing left to build, and the due data sources are no longer due.
    assert isinstance(build_sensor(dg.build_sensor_context(instance=instance)), dg.SkipReason)
    result = due(dg.build_sensor_context(instance=instance, resources=resources))
    assert result.run_requests == []
