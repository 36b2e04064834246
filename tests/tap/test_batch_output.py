"""BATCH output (``batch_config``): the same rows as RECORD messages, in files, with every
STATE written after the BATCH messages that hold the rows it covers."""

from __future__ import annotations

import gzip
import json
import os
import time
from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pytest
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.helpers._batch import BatchConfig

from tap_tiktok_ads import batches
from tap_tiktok_ads.tap import TapTikTokAds
from tests.tap.fake_api import bookmarks, run_tap
from tests.tap.simulated import fast_simulator, tap_config

pytestmark = pytest.mark.usefixtures("pinned_today")

REPORTS = {"campaign_performance": "campaign_id", "ad_group_performance": "adgroup_id"}
STREAM_MAPS = {
    name: {"data_source_id": "int(config['data_source_id'])"}
    for name in ("advertiser_info", "campaigns", "ad_groups", *REPORTS)
}


@pytest.fixture(scope="module")
def sim():
    with fast_simulator(seed=11, advertisers=2, campaigns=3, adgroups=7, days=75) as simulator:
        yield simulator


def config_for(sim, **overrides):
    return (
        tap_config(
            sim,
            "2026-09-07",  # 75 days: three 30-day windows per advertiser
            advertiser_ids=sim.dataset.advertiser_ids,
            page_size=20,  # several pages per window
            stream_maps=STREAM_MAPS,
            stream_map_config={"data_source_id": 42},
        )
        | overrides
    )


def batch_config(root: Path, compression: str = "gzip", batch_size: int = 50) -> dict[str, Any]:
    return {
        "encoding": {"format": "jsonl", "compression": compression},
        "storage": {"root": root.as_uri()},
        "batch_size": batch_size,
    }


def read_manifest(manifest: list[str], compression: str) -> list[dict[str, Any]]:
    rows = []
    for url in manifest:
        path = Path(unquote(urlparse(url).path))
        data = gzip.decompress(path.read_bytes()) if compression == "gzip" else path.read_bytes()
        rows += [json.loads(line) for line in data.splitlines()]
    return rows


def without_metadata(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if not k.startswith("_sdc_")}


def key(stream: str, row: dict[str, Any]) -> tuple[str, ...]:
    if stream in REPORTS:
        return (row["advertiser_id"], row[REPORTS[stream]], row["stat_date"])
    return (row["advertiser_id"], row.get("campaign_id", ""), row.get("adgroup_id", ""))


@pytest.mark.parametrize("compression", ["gzip", "none"])
def test_batch_files_hold_the_record_rows_and_state_never_runs_ahead(sim, tmp_path, compression):
    by_records = run_tap(config_for(sim))
    result = run_tap(config_for(sim, batch_config=batch_config(tmp_path, compression)))

    assert not result.records, "BATCH mode writes no RECORD messages"
    emitted: dict[str, dict[tuple[str, ...], dict[str, Any]]] = defaultdict(dict)
    states_checked = 0
    batch_messages = 0
    for message in result.messages:
        if message["type"] == "BATCH":
            batch_messages += 1
            stream = message["stream"]
            assert message["encoding"] == {"format": "jsonl", "compression": compression}
            for url in message["manifest"]:
                assert Path(unquote(urlparse(url).path)).parent == tmp_path
            rows = read_manifest(message["manifest"], compression)
            for row in rows:
                assert key(stream, row) not in emitted[stream], "a row is in two batches"
                emitted[stream][key(stream, row)] = row
        elif message["type"] == "STATE":
            # Every report row up to a bookmark is already in a BATCH written before it.
            for stream in REPORTS:
                for advertiser_id, bookmark in bookmarks(message["value"], stream).items():
                    if bookmark is None:  # partition started, nothing promised yet
                        continue
                    covered = {
                        key(stream, r)
                        for r in by_records.records[stream]
                        if r["advertiser_id"] == advertiser_id and r["stat_date"] <= bookmark
                    }
                    assert covered <= emitted[stream].keys(), (stream, advertiser_id, bookmark)
                    states_checked += 1
    assert batch_messages >= 2 * 3 * len(REPORTS), "a BATCH per 30-day window at least"
    assert states_checked > 0

    for stream, records in by_records.records.items():
        rows = emitted[stream]
        assert len(rows) == len(records), stream
        expected = {key(stream, r): r for r in records}
        for row_key, row in rows.items():
            assert without_metadata(row) == expected[row_key]
            assert row["data_source_id"] == 42  # stream maps apply, as for RECORD messages
            assert row["_sdc_batched_at"]
            assert row["_sdc_extracted_at"]
            assert isinstance(row["_sdc_sequence"], int)
    assert bookmarks(result.states[-1], "campaign_performance") == bookmarks(
        by_records.states[-1], "campaign_performance"
    )


def test_files_are_cut_at_batch_size(sim, tmp_path):
    result = run_tap(
        config_for(sim, batch_config=batch_config(tmp_path, "none", batch_size=7)),
        streams=["ad_group_performance"],
    )
    manifests = [m["manifest"] for m in result.messages if m["type"] == "BATCH"]
    sizes = [len(read_manifest([url], "none")) for manifest in manifests for url in manifest]
    assert max(sizes) == 7
    files = sorted(tmp_path.iterdir())
    assert len(files) == len(sizes), "every file written is announced in a BATCH message"


def test_a_failing_stream_leaves_no_unannounced_files(tmp_path):
    config = BatchConfig.from_dict(batch_config(tmp_path, "none", batch_size=3))
    files = batches.BatchFiles(config, "campaign_performance", 0)

    def rows():
        for n in range(5):
            yield {"n": n}
        raise RuntimeError("the API failed mid-window")

    manifests = batches.checkpointed_manifests(rows(), files, lambda: False)
    with pytest.raises(RuntimeError):
        list(manifests)
    assert list(tmp_path.iterdir()) == []


def test_old_batch_files_of_this_tap_are_deleted_and_nothing_else(tmp_path):
    config = BatchConfig.from_dict(batch_config(tmp_path))
    old = tmp_path / f"{batches.FILE_PREFIX}campaigns-x-1.jsonl.gz"
    recent = tmp_path / f"{batches.FILE_PREFIX}campaigns-y-1.jsonl.gz"
    foreign = tmp_path / "someone-elses-file.jsonl.gz"
    for path in (old, recent, foreign):
        path.write_bytes(b"")
    stale = time.time() - batches.RETENTION_S - 60
    os.utime(old, (stale, stale))
    os.utime(foreign, (stale, stale))
    assert batches.delete_old_files(config) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([recent.name, foreign.name])


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {"encoding": {"format": "parquet"}, "storage": {"root": "file:///tmp/x"}},
            "batch_config.encoding.format",
        ),
        (
            {"encoding": {"format": "jsonl"}, "storage": {"root": "s3://bucket/x"}},
            "batch_config.storage.root 's3://bucket/x' is not a file:// URL",
        ),
        (
            {
                "encoding": {"format": "jsonl", "compression": "zstd"},
                "storage": {"root": "file:///x"},
            },
            "batch_config.encoding.compression 'zstd'",
        ),
        ({"storage": {"root": "file:///x"}}, "batch_config is malformed"),
    ],
)
def test_unusable_batch_config_is_refused_before_any_request(sim, raw, message):
    with pytest.raises(ConfigValidationError) as raised:
        TapTikTokAds(config=config_for(sim, batch_config=raw))
    assert any(message in error for error in raised.value.errors), raised.value.errors
