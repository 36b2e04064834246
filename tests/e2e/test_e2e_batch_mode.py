"""BATCH messages (the project's default) through the real pipeline: the same raw rows,
marts and bookmarks as RECORD messages."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from devstack.project import private_project, send_records
from tests.e2e.harness import Pipeline

pytestmark = pytest.mark.e2e

RAW_COLUMNS = {
    "campaign_performance": "advertiser_id, campaign_id, stat_date, campaign_name,"
    " objective_type, spend, impressions, clicks, ctr, cpm, cpc, conversion,"
    " cost_per_conversion, conversion_rate, video_play_actions, video_watched_2s,"
    " video_watched_6s, reach, frequency, _sdc_batched_at IS NOT NULL",
    "ad_group_performance": "advertiser_id, adgroup_id, stat_date, campaign_id, adgroup_name,"
    " spend, impressions, clicks, ctr, cpm, cpc, conversion, cost_per_conversion,"
    " conversion_rate, reach, _sdc_batched_at IS NOT NULL",
    "campaigns": "advertiser_id, campaign_id, campaign_name, objective_type, operation_status,"
    " secondary_status, budget, budget_mode, create_time, modify_time",
    "advertiser_info": "advertiser_id, name, currency, timezone, display_timezone, status,"
    " create_time",
}
MART_COLUMNS = {
    "campaign_performance": "stat_date, campaign_id, campaign_name, objective_type, status,"
    " spend, impressions, clicks, ctr, cpm, cpc, conversions, cost_per_conversion,"
    " conversion_rate, video_views, video_play_actions, reach",
    "ad_group_performance": "stat_date, campaign_id, ad_group_id, ad_group_name, spend,"
    " impressions, clicks, conversions, cpl",
}


def rows(pipeline: Pipeline, table: str, columns: str, data_source_id: int) -> list[Any]:
    with pipeline.connect() as conn:
        return conn.execute(
            f"SELECT {columns} FROM {table} WHERE data_source_id = %s ORDER BY 1, 2, 3",
            (data_source_id,),
        ).fetchall()


def test_batch_mode_loads_what_record_mode_loads_and_reruns_cleanly(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    advertiser_id = pipeline.simulator.dataset.advertiser_ids[0]
    by_records = pipeline.register(advertiser_id, project_id=1)
    by_batches = pipeline.register(advertiser_id, project_id=2)
    # Each run in a project folder of its own, so the batch files seen are this test's
    # (batch_config's root is <project>/.meltano/batches/tap-tiktok-ads).
    records_project = private_project(tmp_path / "records", send_records)
    batches_project = private_project(tmp_path / "batches")
    records_pipeline = replace(pipeline, project_dir=records_project)
    pipeline = replace(pipeline, project_dir=batches_project)

    def batch_files(project: Path) -> list[Path]:
        return list((project / ".meltano" / "batches" / "tap-tiktok-ads").glob("*"))

    records_pipeline.run("tiktok-ads", data_source_id=by_records, advertiser_id=advertiser_id)
    assert batch_files(records_project) == [], "RECORD mode wrote batch files"
    pipeline.run("tiktok-ads", data_source_id=by_batches, advertiser_id=advertiser_id)
    assert batch_files(batches_project), "the tap wrote no batch files"

    def snapshot(data_source_id: int) -> dict[str, list[Any]]:
        tables = {f"tiktok_ads.{t}": c for t, c in RAW_COLUMNS.items()}
        tables |= {f"dra_tiktok_ads.{t}": c for t, c in MART_COLUMNS.items()}
        return {t: rows(pipeline, t, c, data_source_id) for t, c in tables.items()}

    expected = snapshot(by_records)
    assert all(expected.values()), expected
    assert snapshot(by_batches) == expected
    assert (
        pipeline.state(by_batches)["singer_state"]["bookmarks"]
        == pipeline.state(by_records)["singer_state"]["bookmarks"]
    )

    # An incremental batch run re-reads the lookback window: no duplicates, same tables.
    marts_before = pipeline.counts("dra_tiktok_ads", by_batches)
    pipeline.run("tiktok-ads", data_source_id=by_batches, advertiser_id=advertiser_id)
    assert snapshot(by_batches) == expected
    assert pipeline.counts("dra_tiktok_ads", by_batches) == marts_before
