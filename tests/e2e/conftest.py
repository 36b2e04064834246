"""End-to-end fixtures: the real `meltano run` on real PostgreSQL, the simulator over HTTP.

Each test gets its own empty database (``fresh_database``) and its own Meltano system
database (state, run history) in ``tmp_path``, so tests never share rows or bookmarks.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from tests.e2e.harness import (
    DAYS,
    END_DATE,
    Pipeline,
)
from tiktok_sim import SimConfig, Simulator


@pytest.fixture(scope="module")
def simulator() -> Iterator[Simulator]:
    config = SimConfig(
        seed=7,
        advertisers=2,
        campaigns=3,
        adgroups=6,
        days=DAYS,
        end_date=END_DATE,
    )
    with Simulator(config) as sim:
        yield sim


@pytest.fixture
def pipeline(
    meltano_plugins: None,
    fresh_database: Mapping[str, str],
    simulator: Simulator,
    tmp_path: Path,
) -> Pipeline:
    simulator.stats.reset()
    return Pipeline(dict(fresh_database), simulator, tmp_path / "meltano.db")
