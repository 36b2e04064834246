"""reconcile_totals over real HTTP against the simulator: each window's emitted totals against
TikTok's total_metrics; a mismatch is logged and counted, or stops the sync."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import pytest

from tests.tap.fake_api import bookmarks, run_tap
from tests.tap.simulated import fast_simulator, tap_config

pytestmark = pytest.mark.usefixtures("pinned_today")

REPORT = "/report/integrated/get/"


@pytest.fixture(scope="module")
def sim():
    with fast_simulator(seed=5, advertisers=1, campaigns=3, adgroups=6, days=60) as simulator:
        yield simulator


@pytest.fixture(autouse=True)
def clean(sim):
    sim.faults.clear()
    sim.stats.reset()


def config_for(sim, **overrides):
    return (
        tap_config(
            sim,
            "2026-09-22",  # 60 days: two windows
            advertiser_ids=sim.dataset.advertiser_ids,
        )
        | overrides
    )


def mismatch_counts(caplog):
    """``reconcile_mismatch_count`` METRIC points: {(stream, advertiser): value}."""
    found = {}
    for record in caplog.records:
        message = record.getMessage()
        if message.startswith("METRIC: ") and "reconcile_mismatch_count" in message:
            point = json.loads(message[len("METRIC: ") :])
            key = (point["tags"]["stream"], point["tags"]["context"]["advertiser_id"])
            found[key] = point["value"]
    return found


def test_matching_totals_count_no_mismatch_and_cost_no_request(sim, caplog):
    caplog.set_level(logging.INFO)
    advertiser_id = sim.dataset.advertiser_ids[0]
    result = run_tap(config_for(sim, reconcile_totals="warn"), streams=["campaign_performance"])
    requests = sim.stats.requests(endpoint=REPORT)
    assert len(requests) == 2  # no extra request: totals come with the first page
    assert all(r.params.get("enable_total_metrics") in ("true", "True") for r in requests)
    assert mismatch_counts(caplog) == {("campaign_performance", advertiser_id): 0}
    assert "Totals mismatch" not in caplog.text
    assert bookmarks(result.final_state, "campaign_performance") == {advertiser_id: "2026-11-20"}


def test_rows_lost_without_a_warning_are_logged_and_counted(sim, caplog):
    caplog.set_level(logging.INFO)
    advertiser_id = sim.dataset.advertiser_ids[0]
    # TikTok leaves a row out of a page and says nothing. One window: its first page is the
    # first report call (with two, the windows' plans are fetched side by side).
    sim.faults.drop_rows(n=1, endpoint=REPORT)
    config = config_for(sim, reconcile_totals="warn", start_date="2026-10-22")
    result = run_tap(config, streams=["ad_group_performance"])
    lines = [r.getMessage() for r in caplog.records if "Totals mismatch" in r.getMessage()]
    assert len(lines) == 1
    assert (
        f"ad_group_performance (AUCTION_ADGROUP) for advertiser {advertiser_id}, "
        "window 2026-10-22..2026-11-20: spend emitted"
    ) in lines[0]
    assert "impressions emitted" in lines[0]
    assert mismatch_counts(caplog) == {("ad_group_performance", advertiser_id): 1}
    # warn: the sync goes on to the end.
    assert bookmarks(result.final_state, "ad_group_performance") == {advertiser_id: "2026-11-20"}


def test_off_asks_for_no_totals(sim, caplog):
    caplog.set_level(logging.INFO)
    sim.faults.drop_rows(n=1, endpoint=REPORT)
    run_tap(config_for(sim), streams=["campaign_performance"])
    assert all("enable_total_metrics" not in r.params for r in sim.stats.requests(endpoint=REPORT))
    assert mismatch_counts(caplog) == {}


def test_fail_stops_the_sync_in_one_line_before_the_bookmark_moves(sim, tmp_path):
    advertiser_id = sim.dataset.advertiser_ids[0]
    sim.faults.drop_rows(n=1, endpoint=REPORT)
    # One window, so the dropped row is in it (see above).
    config = config_for(
        sim, reconcile_totals="fail", start_date="2026-10-22", end_date="2026-11-20"
    )
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    catalog = subprocess.run(
        [sys.executable, "-m", "tap_tiktok_ads", "--config", str(path), "--discover"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    streams = json.loads(catalog.stdout)
    for entry in streams["streams"]:
        selected = entry["tap_stream_id"] == "campaign_performance"
        for item in entry["metadata"]:
            if item["breadcrumb"] == []:
                item["metadata"]["selected"] = selected
    (tmp_path / "catalog.json").write_text(json.dumps(streams))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tap_tiktok_ads",
            "--config",
            str(path),
            "--catalog",
            str(tmp_path / "catalog.json"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    errors = [
        line for line in done.stderr.splitlines() if " ERROR " in f" {line} " or "ERROR" in line
    ]
    assert len(errors) == 1, done.stderr
    assert "Sync failed: Totals mismatch: campaign_performance (AUCTION_CAMPAIGN)" in errors[0]
    assert f"advertiser {advertiser_id}, window 2026-10-22..2026-11-20" in errors[0]
    states = [
        json.loads(line)["value"]
        for line in done.stdout.splitlines()
        if line.startswith("{") and json.loads(line).get("type") == "STATE"
    ]
    assert all(
        bookmarks(state, "campaign_performance").get(advertiser_id) is None for state in states
    )
