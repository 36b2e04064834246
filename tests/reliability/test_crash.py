"""Crash safety: SIGKILL the tap, the target or dbt mid-run, resume with `meltano run`.

The processes are found below the `meltano run` process (from /proc) by executable name and
killed with SIGKILL: no clean-up code runs. After every kill the state Meltano kept may only
promise rows that are loaded; after the resume the tables equal a clean run's: the same
rows (so the same counts and metric sums) and no duplicates.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from tests.reliability.conftest import Reference
from tests.reliability.harness import (
    PIPELINE,
    Pipeline,
    assert_state_covers_only_loaded_rows,
    expected_totals,
    find_process,
    kill,
    reports_served,
    wait_for,
)
from tiktok_sim import Simulator

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

#: Smaller pages than the clean run: more requests, so more distinct moments to kill at.
PAGE_SIZE = "20"


@pytest.fixture(scope="module")
def slow_sim(reference: Reference) -> Iterator[Simulator]:
    with Simulator(replace(reference.pipeline.simulator.config, latency_ms=40)) as sim:
        yield sim


@pytest.fixture
def crash_pipeline(fresh_database: dict[str, str], slow_sim: Simulator, tmp_path: Path) -> Pipeline:
    slow_sim.faults.clear()
    slow_sim.faults.latency(40)
    return Pipeline(dict(fresh_database), slow_sim, tmp_path / "meltano.db")


@dataclass
class KillPoint:
    name: str
    process: str  # executable below meltano: tap-tiktok-ads, target-postgres, dbt
    ready: Callable[[Simulator], bool]
    delay: float = 0.0


def always(_sim: Simulator) -> bool:
    return True


def after_reports(n: int) -> Callable[[Simulator], bool]:
    return lambda sim: reports_served(sim) >= n


TAP_POINTS = [
    KillPoint(
        "tap: while reading campaigns",
        "tap-tiktok-ads",
        lambda s: s.stats.count("/campaign/get/") >= 1,
    ),
    KillPoint("tap: after 1 report page", "tap-tiktok-ads", after_reports(1)),
    KillPoint("tap: after 3 report pages", "tap-tiktok-ads", after_reports(3)),
    KillPoint("tap: after 6 report pages", "tap-tiktok-ads", after_reports(6)),
    KillPoint("tap: after 2 report pages", "tap-tiktok-ads", after_reports(2)),
    KillPoint("tap: after 9 report pages", "tap-tiktok-ads", after_reports(9)),
    KillPoint("tap: after 5 report pages", "tap-tiktok-ads", after_reports(5)),
    KillPoint(
        "tap: while reading ad groups",
        "tap-tiktok-ads",
        lambda s: s.stats.count("/adgroup/get/") >= 1,
    ),
    KillPoint("tap: after 4 report pages", "tap-tiktok-ads", after_reports(4)),
    KillPoint("tap: after 7 report pages", "tap-tiktok-ads", after_reports(7)),
]


def run_and_kill(pipeline: Pipeline, ds: int, point: KillPoint, *args: str) -> bool:
    """One `meltano run` killed at ``point``; False when the run ended before the point."""
    sim = pipeline.simulator
    sim.stats.reset()
    process = pipeline.start_run(data_source_id=ds, options=args, page_size=PAGE_SIZE)
    victim = wait_for(
        lambda: (
            process.poll() is not None
            or (point.ready(sim) and find_process(process.pid, point.process))
        ),
        timeout=240,
    )
    killed = process.poll() is None and victim is not True
    if killed:
        time.sleep(point.delay)
        pid = find_process(process.pid, point.process)
        killed = pid is not None
        if pid is not None:
            kill(pid)
    result = pipeline.finish(process, ("run", *PIPELINE))
    if killed:
        assert result.returncode != 0, f"{point.name}: the run survived the kill"
    else:  # the run got past the point on its own: then it must have succeeded
        assert result.returncode == 0, f"{point.name}: the run failed unkilled:\n{result.tail()}"
    return killed


def resume_and_compare(pipeline: Pipeline, ds: int, reference: Reference) -> None:
    pipeline.simulator.faults.latency(0)
    pipeline.run(*PIPELINE, data_source_id=ds)
    assert pipeline.raw_dump(ds) == reference.raw
    assert pipeline.mart_dump(ds) == reference.marts
    assert set(pipeline.duplicates(ds).values()) == {0}
    assert pipeline.totals(ds) == expected_totals(pipeline.simulator)


def test_tap_killed_at_ten_points_of_a_backfill_resumes_to_a_clean_result(
    crash_pipeline: Pipeline, reference: Reference
) -> None:
    ds = crash_pipeline.register(crash_pipeline.simulator.dataset.advertiser_ids[0])
    killed = []
    for point in TAP_POINTS:
        if run_and_kill(crash_pipeline, ds, point):
            killed.append(point.name)
        assert_state_covers_only_loaded_rows(crash_pipeline, ds)
    assert len(killed) >= 8, f"only {len(killed)} kills landed: {killed}"
    resume_and_compare(crash_pipeline, ds, reference)


def test_target_killed_mid_load_resumes_to_a_clean_result(
    crash_pipeline: Pipeline, reference: Reference
) -> None:
    ds = crash_pipeline.register(crash_pipeline.simulator.dataset.advertiser_ids[0])
    points = [
        KillPoint("target: after 4 report pages", "target-postgres", after_reports(4)),
        KillPoint("target: after 14 report pages", "target-postgres", after_reports(14)),
    ]
    landed = [run_and_kill(crash_pipeline, ds, p) for p in points]
    assert any(landed), "no target kill landed"
    assert_state_covers_only_loaded_rows(crash_pipeline, ds)
    resume_and_compare(crash_pipeline, ds, reference)


def test_dbt_killed_mid_build_resumes_to_a_clean_result(
    crash_pipeline: Pipeline, reference: Reference
) -> None:
    ds = crash_pipeline.register(crash_pipeline.simulator.dataset.advertiser_ids[0])
    crash_pipeline.simulator.faults.latency(0)
    points = [
        KillPoint("dbt: 1.5 s into the build", "dbt", always, delay=1.5),
        KillPoint("dbt: 3.5 s into the build", "dbt", always, delay=3.5),
    ]
    landed = [run_and_kill(crash_pipeline, ds, p, "--full-refresh") for p in points]
    assert any(landed), "no dbt kill landed"
    assert_state_covers_only_loaded_rows(crash_pipeline, ds)
    resume_and_compare(crash_pipeline, ds, reference)
