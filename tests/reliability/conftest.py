"""Fixtures of the fault-injection suite.

A clean run (the reference) is made once per session in its own database; every scenario
ends by comparing its tables with it. Scenarios of one module share a database, each with
its own data source (and so its own rows and Meltano state), which is also what the
platform does.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from devstack.postgres import conninfo
from tests.reliability.harness import PIPELINE, Pipeline, bookmarks, sim_config
from tiktok_sim import Simulator


def new_database(server: Mapping[str, str]) -> dict[str, str]:
    name = f"rel_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(conninfo(server), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return dict(server) | {"PGDATABASE": name}


def drop_database(server: Mapping[str, str], env: Mapping[str, str]) -> None:
    with psycopg.connect(conninfo(server), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{env["PGDATABASE"]}" WITH (FORCE)')


@pytest.fixture(scope="session")
def shared_sim() -> Iterator[Simulator]:
    """The simulator of the reference run and of scenarios that only arm faults on it."""
    with Simulator(sim_config()) as sim:
        yield sim


@dataclass
class Reference:
    """A clean run: what every scenario's tables must equal."""

    pipeline: Pipeline
    data_source_id: int
    raw: dict[str, list[tuple[Any, ...]]]
    marts: dict[str, list[tuple[Any, ...]]]
    bookmarks: dict[str, dict[str, str]]


@pytest.fixture(scope="session")
def reference(
    meltano_plugins: None,
    postgres_server: dict[str, str],
    shared_sim: Simulator,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Reference]:
    env = new_database(postgres_server)
    pipeline = Pipeline(env, shared_sim, tmp_path_factory.mktemp("reference") / "meltano.db")
    try:
        shared_sim.faults.clear()
        ds = pipeline.register(shared_sim.dataset.advertiser_ids[0])
        pipeline.run(*PIPELINE, data_source_id=ds)
        yield Reference(
            pipeline,
            ds,
            pipeline.raw_dump(ds),
            pipeline.mart_dump(ds),
            bookmarks(pipeline.state(ds)),
        )
    finally:
        drop_database(postgres_server, env)


@pytest.fixture(scope="module")
def module_db(postgres_server: dict[str, str]) -> Iterator[dict[str, str]]:
    env = new_database(postgres_server)
    yield env
    drop_database(postgres_server, env)


@pytest.fixture
def sim_pipeline(
    reference: Reference,
    module_db: dict[str, str],
    shared_sim: Simulator,
    tmp_path: Path,
) -> Iterator[Pipeline]:
    """A pipeline on the module's database and the shared simulator, faults cleared."""
    shared_sim.faults.clear()
    shared_sim.stats.reset()
    yield Pipeline(module_db, shared_sim, tmp_path / "meltano.db")
    shared_sim.faults.clear()
