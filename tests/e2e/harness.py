"""Helpers of the end-to-end tests: one Meltano project, per-test database and state."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from dra_tiktok_ads.details import ConnectionDetails
from dra_tiktok_ads.registration import register_data_source
from tiktok_sim import Simulator

REPO_ROOT = Path(__file__).resolve().parents[2]
MELTANO = str(Path(sys.executable).parent / "meltano")


def scratch_system_db() -> dict[str, str]:
    """The environment for a Meltano command that needs no state (install, listings):
    meltano.yml's system database is the platform database, which such a command lacks."""
    return dict(os.environ) | {"MELTANO_DATABASE_URI": f"sqlite:///{REPO_ROOT}/.meltano/install.db"}


PLUGIN_VENVS = (
    ".meltano/extractors/tap-tiktok-ads/venv",
    ".meltano/loaders/target-postgres/venv",
    ".meltano/utilities/dbt-postgres/venv",
)
END_DATE = date(2026, 3, 31)
# Not exactly 10 days: the transform's channel test compares a whole range and a 10-day
# range with UNION ALL, and double-counts when the two are the same (reported).
DAYS = 14
START_DATE = END_DATE - timedelta(days=DAYS - 1)
LOOKBACK_DAYS = 3
TEST_KEY_HEX = "00" * 32
# Raw tables and the primary key each must have in platform runs (data_source_id first).
RAW_KEYS = {
    "advertiser_info": ["data_source_id", "advertiser_id"],
    "campaigns": ["data_source_id", "advertiser_id", "campaign_id"],
    "ad_groups": ["data_source_id", "advertiser_id", "adgroup_id"],
    "campaign_performance": ["data_source_id", "advertiser_id", "campaign_id", "stat_date"],
    "ad_group_performance": ["data_source_id", "advertiser_id", "adgroup_id", "stat_date"],
}


def private_sys_dir(root: Path) -> dict[str, str]:
    """A Meltano system directory and dbt target at ``root``, as the platform's sync runner
    uses: Meltano keeps each plugin's config, catalog and incoming state under
    ``.meltano/run/<plugin>/`` with fixed names, so runs sharing one would collide (with each
    other, with tests running in parallel, with anyone else's run in this checkout). The
    plugin venvs are shared (linked)."""
    root.mkdir(parents=True, mode=0o700, exist_ok=True)  # run files hold secrets
    for kind in ("extractors", "loaders", "utilities"):
        source, link = REPO_ROOT / ".meltano" / kind, root / kind
        if source.is_dir() and not link.is_symlink():
            link.symlink_to(source, target_is_directory=True)
    return {"MELTANO_SYS_DIR_ROOT": str(root), "DBT_TARGET_PATH": str(root / "dbt-target")}


# Variables of the developer's shell that must not leak into a test's pipeline.
_ISOLATED_PREFIXES = ("TAP_TIKTOK_ADS_", "TARGET_POSTGRES_", "MELTANO_", "DBT_", "TIKTOK_ADS_")


def isolated_environ() -> dict[str, str]:
    """This process's environment without the shell's pipeline settings."""
    return {k: v for k, v in os.environ.items() if not k.startswith(_ISOLATED_PREFIXES)}


def connect_to(pg_env: Mapping[str, str]) -> psycopg.Connection:
    """An autocommit connection to the database the PG* variables name."""
    return psycopg.connect(
        host=pg_env["PGHOST"],
        port=pg_env["PGPORT"],
        user=pg_env["PGUSER"],
        password=pg_env["PGPASSWORD"],
        dbname=pg_env["PGDATABASE"],
        autocommit=True,
    )


def state_id(data_source_id: int) -> str:
    """Meltano's state id of a data source's runs in the dev environment."""
    return f"dev:tap-tiktok-ads-to-target-postgres:data-source-{data_source_id}"


@dataclass
class Pipeline:
    """Runs Meltano commands for one test: its database, its state, the simulator."""

    pg_env: dict[str, str]
    simulator: Simulator
    system_db: Path
    #: The Meltano project to run in (a ``devstack.project.private_project`` copy to vary it).
    project_dir: Path = REPO_ROOT

    def connect(self) -> psycopg.Connection:
        return connect_to(self.pg_env)

    def register(self, advertiser_id: str, project_id: int | None = None) -> int:
        """A dra_data_sources row for the advertiser (the transform's foreign key)."""
        with self.connect() as conn:
            return register_data_source(
                conn,
                advertiser_id=advertiser_id,
                advertiser_name=f"Test {advertiser_id}",
                details=ConnectionDetails(
                    "sim-access-token", (advertiser_id,), api_url=self.simulator.api_url
                ),
                key_hex=TEST_KEY_HEX,
                project_id=project_id,
            )

    def env(self, data_source_id: int, advertiser_ids: list[str]) -> dict[str, str]:
        return (
            isolated_environ()
            | self.pg_env
            | {
                "MELTANO_DATABASE_URI": f"sqlite:///{self.system_db}",
                "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
                "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
                "TAP_TIKTOK_ADS_API_URL": self.simulator.api_url,
                "TAP_TIKTOK_ADS_ACCESS_TOKEN": "sim-access-token",
                "TAP_TIKTOK_ADS_ADVERTISER_IDS": json.dumps(advertiser_ids),
                "TAP_TIKTOK_ADS_START_DATE": START_DATE.isoformat(),
                "TAP_TIKTOK_ADS_END_DATE": END_DATE.isoformat(),
                "TAP_TIKTOK_ADS_LOOKBACK_DAYS": str(LOOKBACK_DAYS),
                "TAP_TIKTOK_ADS_DATA_SOURCE_ID": str(data_source_id),
            }
            | private_sys_dir(self.system_db.parent / "meltano-sys")
        )

    def meltano(
        self, *args: str, data_source_id: int, advertiser_ids: list[str]
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [MELTANO, *args],
            cwd=self.project_dir,
            env=self.env(data_source_id, advertiser_ids),
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if result.returncode != 0:
            tail = "\n".join((result.stderr + result.stdout).splitlines()[-60:])
            pytest.fail(f"meltano {' '.join(args)} failed ({result.returncode}):\n{tail}")
        return result

    def run(self, *pipeline: str, data_source_id: int, advertiser_id: str) -> None:
        self.meltano(
            "run",
            f"--state-id-suffix=data-source-{data_source_id}",
            *pipeline,
            data_source_id=data_source_id,
            advertiser_ids=[advertiser_id],
        )

    def state(self, data_source_id: int) -> dict[str, Any]:
        result = self.meltano(
            "state",
            "get",
            state_id(data_source_id),
            data_source_id=data_source_id,
            advertiser_ids=[],
        )
        state: dict[str, Any] = json.loads(result.stdout)
        return state

    def counts(self, schema: str, data_source_id: int) -> dict[str, int]:
        """Rows per table of ``schema`` for one data source."""
        with self.connect() as conn:
            tables = [
                row[0]
                for row in conn.execute(
                    "SELECT table_name FROM information_schema.tables"
                    " WHERE table_schema = %s AND table_type = 'BASE TABLE'",
                    (schema,),
                )
            ]
            counts = {}
            for table in tables:
                row = conn.execute(
                    f'SELECT count(*) FROM {schema}."{table}" WHERE data_source_id = %s',
                    (data_source_id,),
                ).fetchone()
                counts[table] = int(row[0]) if row else 0
            return counts
