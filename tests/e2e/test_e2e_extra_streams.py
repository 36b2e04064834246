"""The streams the platform does not select (ads, ad_performance, advertiser_performance):
selected through Meltano's ``select`` override, loaded by target-postgres, and typed by their
staging models, which exist only with the dbt var ``tiktok_ads_extra_streams``."""

from __future__ import annotations

import json
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from tap_tiktok_ads.streams import STREAM_TYPES, default_stream_names
from tests.e2e.harness import END_DATE, MELTANO, START_DATE, Pipeline
from tests.transform.harness import DbtRunner
from tiktok_sim.dataset import LEVEL_AD, LEVEL_ADVERTISER

pytestmark = pytest.mark.e2e

EXTRA = ("ads", "ad_performance", "advertiser_performance")
DEFAULT = default_stream_names()
PIPELINE = ("tap-tiktok-ads", "target-postgres")
MODELS = tuple(f"stg_tiktok_ads__{name}" for name in EXTRA)
EXTRA_VARS = json.dumps({"tiktok_ads_extra_streams": True})


def _extract_and_load(pipeline: Pipeline, data_source_id: int, advertiser_id: str) -> None:
    # The transform's on-run-start check needs every enabled source's raw table, so the
    # platform's streams are loaded too.
    streams = [stream for stream in STREAM_TYPES if stream.name in (*DEFAULT, *EXTRA)]
    # The platform's stamping, for every selected stream (the override replaces meltano.yml's
    # stream_maps as a whole): data_source_id first in each key, as docs/transform.md shows.
    stream_maps = {
        stream.name: {
            "data_source_id": "int(config['data_source_id'])",
            "__key_properties__": ["data_source_id", *stream.primary_keys],
        }
        for stream in streams
    }
    env = pipeline.env(data_source_id, [advertiser_id]) | {
        "TAP_TIKTOK_ADS__SELECT": json.dumps([f"{stream.name}.*" for stream in streams]),
        "TAP_TIKTOK_ADS_STREAM_MAPS": json.dumps(stream_maps),
    }
    result = subprocess.run(
        [MELTANO, "run", f"--state-id-suffix=data-source-{data_source_id}", *PIPELINE],
        cwd=pipeline.project_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail("meltano run failed:\n" + "\n".join(result.stderr.splitlines()[-40:]))


def test_extra_streams_load_and_their_staging_models_match_the_api(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    dataset = pipeline.simulator.dataset
    advertiser_id = dataset.advertiser_ids[0]
    data_source_id = pipeline.register(advertiser_id)
    _extract_and_load(pipeline, data_source_id, advertiser_id)

    dbt = DbtRunner(pipeline.pg_env, tmp_path)
    # Off by default: the platform's build never sees these models.
    listed = dbt.run("ls", "--resource-type", "model", "--output", "name").stdout
    assert not any(model in listed for model in MODELS)
    dbt.build("--vars", EXTRA_VARS, "--select", *MODELS)

    ads = dataset.ads[advertiser_id]
    with pipeline.connect() as conn:
        rows = conn.execute(
            "SELECT ad_id, is_deleted, ad_name, call_to_action, jsonb_array_length(image_ids)"
            " FROM tiktok_ads_dbt.stg_tiktok_ads__ads WHERE data_source_id = %s",
            (data_source_id,),
        ).fetchall()
        assert {r[0] for r in rows} == {ad.ad_id for ad in ads}
        assert {r[0] for r in rows if r[1]} == {ad.ad_id for ad in ads if ad.deleted}
        by_id = {ad.ad_id: ad for ad in ads}
        assert all(r[2] == by_id[r[0]].ad_name for r in rows)
        assert all(r[4] == len(by_id[r[0]].image_ids) for r in rows)

        ad_totals = dataset.report_totals(LEVEL_AD, advertiser_id, START_DATE, END_DATE)
        row = conn.execute(
            "SELECT count(*), sum(spend), sum(impressions), sum(video_views_p100), sum(likes)"
            " FROM tiktok_ads_dbt.stg_tiktok_ads__ad_performance WHERE data_source_id = %s",
            (data_source_id,),
        ).fetchone()
        assert row is not None
        assert row[0] == dataset.report_row_count(LEVEL_AD, advertiser_id, START_DATE, END_DATE)
        assert row[1:] == (
            ad_totals["spend"],
            ad_totals["impressions"],
            ad_totals["video_views_p100"],
            ad_totals["likes"],
        )

        totals = dataset.report_totals(LEVEL_ADVERTISER, advertiser_id, START_DATE, END_DATE)
        row = conn.execute(
            "SELECT count(*), sum(spend), sum(cash_spend + voucher_spend)"
            " FROM tiktok_ads_dbt.stg_tiktok_ads__advertiser_performance"
            " WHERE data_source_id = %s",
            (data_source_id,),
        ).fetchone()
        assert row is not None
        assert row == ((END_DATE - START_DATE).days + 1, totals["spend"], totals["spend"])
        assert isinstance(row[1], Decimal)

    # Every column of the three models is documented.
    dbt.run("docs", "generate", "--vars", EXTRA_VARS, "--select", *MODELS)
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    catalog = json.loads((tmp_path / "target" / "catalog.json").read_text())
    undocumented = []
    for model in MODELS:
        unique_id = f"model.dra_tiktok_ads.{model}"
        documented = {
            name
            for name, column in manifest["nodes"][unique_id]["columns"].items()
            if column["description"]
        }
        undocumented += [
            f"{model}.{name}"
            for name in catalog["nodes"][unique_id]["columns"]
            if name not in documented
        ]
    assert undocumented == []
