"""Transform fixtures: one shared, fully built warehouse per module for read-only checks."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from tests.transform import harness


@dataclass
class Warehouse:
    env: dict[str, str]
    conn: psycopg.Connection
    ids: dict[str, int]
    dbt: harness.DbtRunner


def _conninfo(env: dict[str, str]) -> str:
    return " ".join(
        f"{key}={env[var]}"
        for key, var in (
            ("host", "PGHOST"),
            ("port", "PGPORT"),
            ("user", "PGUSER"),
            ("password", "PGPASSWORD"),
            ("dbname", "PGDATABASE"),
        )
    )


@pytest.fixture(scope="module")
def built_warehouse(
    postgres_server: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Warehouse]:
    """The dataset loaded and `dbt build` run once; shared by a module's read-only tests."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_conninfo(postgres_server), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    env = postgres_server | {"PGDATABASE": name}
    try:
        with psycopg.connect(_conninfo(env), autocommit=True) as conn:
            ids = harness.register_sources(conn)
            harness.load_dataset(conn, ids)
            dbt = harness.DbtRunner(env, tmp_path_factory.mktemp("dbt"))
            dbt.build()
            yield Warehouse(env, conn, ids, dbt)
    finally:
        with psycopg.connect(_conninfo(postgres_server), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def dbt_runner(fresh_database: dict[str, str], tmp_path: Path) -> harness.DbtRunner:
    return harness.DbtRunner(fresh_database, tmp_path)
