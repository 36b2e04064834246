"""Run the dbt project the way Meltano does, against a test database."""

from __future__ import annotations

import contextlib
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg

from devstack.postgres import conninfo
from dra_tiktok_ads import registration
from tests.transform import dataset, raw_layer

REPO_ROOT = Path(__file__).resolve().parents[2]
DBT = REPO_ROOT / ".venv" / "bin" / "dbt"


@contextlib.contextmanager
def scratch_database(server_env: dict[str, str]) -> Iterator[dict[str, str]]:
    """A new, empty database on the server, dropped afterwards; yields its PG* variables."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(conninfo(server_env), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server_env | {"PGDATABASE": name}
    finally:
        with psycopg.connect(conninfo(server_env), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class DbtRunner:
    """`dbt build --project-dir transform --profiles-dir transform/profiles` from the repo
    root, with private target/log folders so tests can run in parallel."""

    def __init__(self, env: dict[str, str], work_dir: Path) -> None:
        self.env = os.environ | env | {"DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
        self.work_dir = work_dir

    def _command(self, *args: str) -> list[str]:
        return [
            str(DBT),
            *args,
            "--project-dir",
            "transform",
            "--profiles-dir",
            "transform/profiles",
            "--target-path",
            str(self.work_dir / "target"),
            "--log-path",
            str(self.work_dir / "logs"),
        ]

    def start(self, *args: str) -> subprocess.Popen[str]:
        """Start dbt without waiting (concurrency tests)."""
        return subprocess.Popen(
            self._command(*args),
            cwd=REPO_ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            self._command(*args),
            cwd=REPO_ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def run_in_project(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Plain `dbt <args>` from inside transform/ (profiles.yml found there)."""
        command = [
            str(DBT),
            *args,
            "--target-path",
            str(self.work_dir / "target"),
            "--log-path",
            str(self.work_dir / "logs"),
        ]
        result = subprocess.run(
            command,
            cwd=REPO_ROOT / "transform",
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def build(self, *extra: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run("build", *extra, check=check)


def register_sources(conn: psycopg.Connection) -> dict[str, int]:
    """dra_data_sources rows for the dataset's data sources (plain inserts: the transform
    tests need ids, not encrypted details)."""
    registration.ensure_platform_objects(conn)
    ids = {}
    for label in dataset.DATA_SOURCES:
        row = conn.execute(
            "INSERT INTO dra_data_sources (name, data_type, connection_details, classification)"
            " VALUES (%s, 'tiktok_ads', '{}'::jsonb, 'marketing_campaign_data') RETURNING id",
            (f"TikTok {label}",),
        ).fetchone()
        assert row is not None
        ids[label] = int(row[0])
    return ids


def load_dataset(conn: psycopg.Connection, ids: dict[str, int]) -> None:
    raw_layer.create_raw_tables(conn)
    for label, advertisers in dataset.DATA_SOURCES.items():
        for advertiser in advertisers:
            for table, rows in dataset.raw_rows(ids[label], advertiser).items():
                raw_layer.load_rows(
                    conn, table, rows, batched_at=dataset.SYNC_TIME, extracted_at=dataset.SYNC_TIME
                )
