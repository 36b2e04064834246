"""Several tap processes, one per advertiser of one app, against one simulator over real HTTP.

TikTok counts requests per app in a sliding one-second window and answers 40100 above the
app's limit; so does the simulator (``app_qps_limit``). With the shared budget, the requests
it receives from all processes together stay within the limit and none is refused; without
it (the limit switched off to see what the processes send), each process keeps only its own
pace and together they exceed the limit.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from tests.tap.test_shared_budget import uri_of
from tiktok_sim import SimConfig, Simulator

pytestmark = pytest.mark.slow

TAP = str(Path(sys.executable).parent / "tap-tiktok-ads")
END = date(2026, 11, 20)
APP_LIMIT = 10  # requests per second: TikTok's basic tier
PROCESSES = 3


def sim_config() -> SimConfig:
    # Small pages (see sync_in_parallel): about 17 requests per process, so the processes
    # overlap for seconds.
    return SimConfig(
        seed=16,
        advertisers=PROCESSES,
        campaigns=3,
        adgroups=6,
        days=30,
        end_date=END,
        app_qps_limit=APP_LIMIT,
    )


def max_in_one_second(times: list[float]) -> int:
    """The most requests received within any one-second window [t, t + 1)."""
    times = sorted(times)
    most, first = 0, 0
    for last, received in enumerate(times):
        while received - times[first] >= 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


def test_window_count_is_exact():
    assert max_in_one_second([0.0, 0.5, 0.999, 1.0, 1.2]) == 4
    assert max_in_one_second([]) == 0


def sync_in_parallel(sim: Simulator, tmp_path: Path, **settings: str) -> list[float]:
    """One tap process per advertiser, all at once; the simulator's arrival times."""
    sim.stats.reset()
    processes = []
    for advertiser_id in sim.dataset.advertiser_ids:
        config = tmp_path / f"config-{advertiser_id}-{len(settings)}.json"
        config.write_text(
            json.dumps(
                {
                    "access_token": sim.config.access_token,
                    "api_url": sim.api_url,
                    "app_id": sim.config.app_id,
                    "advertiser_ids": [advertiser_id],
                    "start_date": "2026-10-22",
                    "end_date": END.isoformat(),
                    "page_size": 20,
                    "max_requests_per_second": APP_LIMIT,
                    **settings,
                }
            ),
            encoding="utf-8",
        )
        processes.append(
            subprocess.Popen(
                [TAP, "--config", str(config)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    for process in processes:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr[-2000:]
        if "took a new one" in stderr:
            print("a process gave up a late slot")
    return [record.received_at for record in sim.stats.requests()]


def test_processes_of_one_app_share_its_limit(
    fresh_database: dict[str, str], tmp_path: Path
) -> None:
    with Simulator(sim_config()) as sim:
        shared = sync_in_parallel(sim, tmp_path, shared_budget=uri_of(fresh_database))
        rejected = sim.stats.rate_limited
        sim.config.set_switches({"app_qps_limit": None})
        alone = sync_in_parallel(sim, tmp_path)
    print(  # the figures, for the report (pytest -s)
        f"{len(shared)} requests; most in one second: shared budget {max_in_one_second(shared)}"
        f", each process alone {max_in_one_second(alone)}; 40100 with the budget: {rejected}"
    )
    assert len(shared) == len(alone) >= PROCESSES * 15
    assert rejected == 0
    assert max_in_one_second(shared) <= APP_LIMIT
    # The same runs, each with its own throttle only: together they exceed the app's limit.
    assert max_in_one_second(alone) > APP_LIMIT
