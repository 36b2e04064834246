"""Fixtures shared by every test layer: a real PostgreSQL and per-test databases.

The test command (``make test``) starts one private cluster and exports ``PG*``; run on
its own, pytest starts a private cluster itself. Each test that touches the database gets
a database of its own, so tests never see each other's rows.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from devstack.postgres import LocalPostgres, conninfo
from tests.e2e.harness import MELTANO, PLUGIN_VENVS, scratch_system_db

REPO_ROOT = Path(__file__).resolve().parent.parent
LIBPQ_VARS = ("PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE")


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Connection variables of a running PostgreSQL server (admin database)."""
    if os.environ.get("PGHOST") and os.environ.get("PGPORT"):
        yield {name: os.environ.get(name, "") for name in LIBPQ_VARS} | {
            "PGPASSWORD": os.environ.get("PGPASSWORD") or "local-trust-auth",
            "PGUSER": os.environ.get("PGUSER") or "postgres",
            "PGDATABASE": os.environ.get("PGDATABASE") or "postgres",
        }
        return
    server = LocalPostgres(data_dir=tmp_path_factory.mktemp("pg") / "data").start()
    try:
        yield server.libpq_env()
    finally:
        server.stop()


@pytest.fixture
def fresh_database(postgres_server: dict[str, str]) -> Iterator[dict[str, str]]:
    """A new, empty database; yields the PG* variables that point at it."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(conninfo(postgres_server), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield postgres_server | {"PGDATABASE": name}
    with psycopg.connect(conninfo(postgres_server), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def db_connection(fresh_database: dict[str, str]) -> Iterator[psycopg.Connection]:
    """An autocommit connection to ``fresh_database``."""
    with psycopg.connect(conninfo(fresh_database), autocommit=True) as conn:
        yield conn


@pytest.fixture(scope="session")
def meltano_plugins() -> None:
    """The plugin venvs `make test` installs; installed here when pytest runs on its own."""
    if all((REPO_ROOT / venv).is_dir() for venv in PLUGIN_VENVS):
        return
    subprocess.run(
        [MELTANO, "install"],
        cwd=REPO_ROOT,
        env=scratch_system_db(),
        check=True,
        capture_output=True,
    )
