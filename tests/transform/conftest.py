"""Transform fixtures: one shared, fully built warehouse per module for read-only checks, and
the catalog of the platform contract the transform targets."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from tests.transform import harness, platform_catalog


@dataclass
class Warehouse:
    env: dict[str, str]
    conn: psycopg.Connection
    ids: dict[str, int]
    dbt: harness.DbtRunner


@pytest.fixture(scope="module")
def built_warehouse(
    postgres_server: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Warehouse]:
    """The dataset loaded and `dbt build` run once; shared by a module's read-only tests."""
    with (
        harness.scratch_database(postgres_server) as env,
        psycopg.connect(harness.conninfo(env), autocommit=True) as conn,
    ):
        ids = harness.register_sources(conn)
        harness.load_dataset(conn, ids)
        dbt = harness.DbtRunner(env, tmp_path_factory.mktemp("dbt"))
        dbt.build()
        yield Warehouse(env, conn, ids, dbt)


@pytest.fixture
def contract_catalog(postgres_server: dict[str, str]) -> platform_catalog.Catalog:
    """The catalog of a database holding only the platform contract."""
    return platform_catalog.contract_catalog(postgres_server)


@pytest.fixture
def dbt_runner(fresh_database: dict[str, str], tmp_path: Path) -> harness.DbtRunner:
    return harness.DbtRunner(fresh_database, tmp_path)
