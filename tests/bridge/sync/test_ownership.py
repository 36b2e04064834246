"""tap-tiktok-ads-check on its own (real PostgreSQL): who owns which advertiser, and the
leftovers of a killed run. Through Meltano: tests/reliability/test_tenancy.py."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import psycopg
import pytest

from dra_tiktok_ads.details import ConnectionDetails
from dra_tiktok_ads.registration import register_data_source
from dra_tiktok_ads.sync.ownership import OwnershipError, check, clean_run_folder
from tests.e2e.harness import connect_to

KEY = "ab" * 32


def _register(conn: psycopg.Connection, *advertisers: str, project: int) -> int:
    return register_data_source(
        conn,
        advertiser_id=advertisers[0],
        advertiser_name=f"Owner of {advertisers[0]}",
        details=ConnectionDetails("token-own", advertisers),
        key_hex=KEY,
        project_id=project,
    )


def test_an_explicit_list_of_advertisers_is_owned_and_nothing_else(
    db_connection: psycopg.Connection, fresh_database: dict[str, str], tmp_path: Path
) -> None:
    several = _register(db_connection, "7101", "7102", project=1)
    single = _register(db_connection, "7103", project=2)
    connect = partial(connect_to, fresh_database)

    def env(data_source: int, *ids: str) -> dict[str, str]:
        return {
            "TAP_TIKTOK_ADS_DATA_SOURCE_ID": str(data_source),
            "TAP_TIKTOK_ADS_ADVERTISER_IDS": json.dumps(list(ids)),
        }

    assert check(env(several, "7101", "7102"), connect) == (several, ["7101", "7102"])
    with pytest.raises(OwnershipError, match=f"Advertiser 7103 .* belongs to data source {single}"):
        check(env(several, "7101", "7103"), connect)
    # The token store names the advertisers when the setting does not.
    store = tmp_path / "7103.json"
    store.write_text(json.dumps({"access_token": "t", "advertiser_ids": ["7103"]}))
    store.chmod(0o600)
    assert check(
        {
            "TAP_TIKTOK_ADS_DATA_SOURCE_ID": str(single),
            "TAP_TIKTOK_ADS_TOKEN_STORE_PATH": str(store),
        },
        connect,
    ) == (single, ["7103"])
    with pytest.raises(OwnershipError, match="No advertiser is named"):
        check({"TAP_TIKTOK_ADS_DATA_SOURCE_ID": str(single)}, connect)
    with pytest.raises(OwnershipError, match="not a JSON array"):
        check(env(single) | {"TAP_TIKTOK_ADS_ADVERTISER_IDS": "7103,7104"}, connect)


def test_config_files_a_killed_run_left_are_removed_and_the_folder_made_private(
    tmp_path: Path,
) -> None:
    run = tmp_path / ".meltano" / "run"
    (run / "tap-tiktok-ads").mkdir(parents=True)
    (run / "tap-tiktok-ads" / "tap.5f2c.config.json").write_text('{"access_token": "x"}')
    (run / "target-postgres").mkdir()
    (run / "target-postgres" / "target.91ab.config.json").write_text('{"password": "y"}')
    (run / "tap-tiktok-ads" / "tap.properties.json").write_text("{}")  # not a secret: kept
    run.chmod(0o755)
    assert clean_run_folder({"MELTANO_PROJECT_ROOT": str(tmp_path)}) == 2
    assert sorted(p.name for p in run.rglob("*.json")) == ["tap.properties.json"]
    assert run.stat().st_mode & 0o077 == 0
