"""The runner after a crash, on a new database, and when its data source goes away (issue 15,
items 3, 4, 5 and 9): real PostgreSQL, the simulator, the real `meltano run`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from datetime import timedelta
from functools import partial
from pathlib import Path

import psycopg
import pytest

from dra_tiktok_ads.details import ConnectionDetails
from dra_tiktok_ads.registration import register_data_source
from dra_tiktok_ads.sync.data_source_sync import sync_data_source
from dra_tiktok_ads.sync.settings import RunnerSettings
from tests.bridge.sync.test_runner_end_to_end import (  # noqa: F401 - fixtures
    KEY,
    Platform,
    parse_outcomes,
    platform,
    sim,
    utc_now,
)
from tests.e2e.harness import REPO_ROOT, connect_to
from tests.reliability.harness import descendants, kill, wait_for

pytestmark = pytest.mark.e2e

REPORT = "/report/integrated/get/"


def _without_system_db(env: Mapping[str, str], tmp_dir: Path) -> dict[str, str]:
    """The runner's environment as the README sets it: no MELTANO_DATABASE_URI (meltano.yml
    keeps Meltano's state in the platform database), and a temporary folder to inspect."""
    return {k: v for k, v in env.items() if k != "MELTANO_DATABASE_URI"} | {"TMPDIR": str(tmp_dir)}


def _leftovers(tmp_dir: Path, data_source_id: int) -> list[Path]:
    return sorted(tmp_dir.glob(f"tiktok-sync-{data_source_id}-*"))


def test_a_killed_run_keeps_its_slot_and_its_secrets_do_not_survive_the_next_start(
    platform: Platform,  # noqa: F811 - the fixture
) -> None:
    tmp_dir = platform.temp_dir  # the runs' TMPDIR, private to this test
    env = _without_system_db(platform.env(), tmp_dir)
    advertiser = platform.sim.dataset.advertiser_ids[0]
    ds = platform.register(
        advertiser, project_id=1, schedule="hourly", next_run=-timedelta(hours=1)
    )
    slot = platform.row(ds)["next_scheduled_sync"]

    platform.sim.faults.latency(150)  # long enough to be killed in the middle of its reports
    runner = subprocess.Popen(
        platform.command("--due"),
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for(lambda: platform.sim.stats.count(REPORT) >= 2, timeout=300)
        # kill -9 of the runner; its Meltano dies with it (PR_SET_PDEATHSIG), and so here,
        # to be sure, does everything below it: no clean-up code runs anywhere.
        below = descendants(runner.pid)
        kill(runner.pid)
        for pid in below:
            kill(pid)
        runner.wait(timeout=30)
    finally:
        if runner.poll() is None:
            os.killpg(runner.pid, signal.SIGKILL)
    platform.sim.faults.clear()

    row = platform.row(ds)
    assert row["sync_status"] == "running"
    assert row["next_scheduled_sync"] == slot  # the slot is kept: still due
    # The killed run's private folder (its decrypted tokens) is still there ...
    (leftover,) = _leftovers(tmp_dir, ds)
    assert (leftover / "tokens.json").exists()
    assert leftover.stat().st_mode & 0o077 == 0

    # ... until the next tick: it runs the data source again at once, whatever Meltano's own
    # record of the killed run says, and removes what the killed run left.
    before = utc_now()
    result = subprocess.run(
        platform.command("--due"),
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert parse_outcomes(result.stdout)[ds]["status"] == "completed", output
    row = platform.row(ds)
    assert row["sync_status"] == "completed"
    assert row["next_scheduled_sync"] > before  # the next hourly slot
    assert _leftovers(tmp_dir, ds) == []
    assert all(platform.raw_rows(ds).values())
    # Meltano's state is in the platform database (schema meltano), beside the rows it
    # describes, not in a file of the checkout.
    with platform.connect() as conn:
        ids = [r[0] for r in conn.execute("SELECT state_id FROM meltano.state")]
    assert any(i.endswith(f":data-source-{ds}") for i in ids), ids


@pytest.fixture
def second_database(postgres_server: dict[str, str]) -> Iterator[dict[str, str]]:
    name = f"test_{uuid.uuid4().hex[:12]}"
    with connect_to(postgres_server) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield postgres_server | {"PGDATABASE": name}
    with connect_to(postgres_server) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_new_database_is_fully_loaded_even_when_old_bookmarks_exist_for_its_id(
    platform: Platform,  # noqa: F811 - the fixture
    second_database: dict[str, str],
    tmp_path: Path,
) -> None:
    """Bookmarks kept outside the platform database (MELTANO_DATABASE_URI pointing at a file,
    as before) must not make a new database's data source load only the lookback days."""
    advertiser = platform.sim.dataset.advertiser_ids[0]
    first = platform.register(advertiser, project_id=1, schedule="manual")
    _, outcomes, output = platform.sync("--data-source", str(first))
    assert outcomes[first]["status"] == "completed", output
    loaded = platform.raw_rows(first)

    restored = Platform(second_database, platform.sim, tmp_path / "second")
    restored.system_db = platform.system_db  # the same Meltano system database
    same_id = restored.register(advertiser, project_id=1, schedule="manual")
    assert same_id == first  # a new database numbers its data sources from 1 again
    _, outcomes, output = restored.sync("--data-source", str(same_id))
    assert outcomes[same_id]["status"] == "completed", output
    assert restored.raw_rows(same_id) == loaded


def test_a_data_source_deleted_during_its_run_is_reported_deleted(
    db_connection: psycopg.Connection, fresh_database: dict[str, str], tmp_path: Path
) -> None:
    data_source_id = register_data_source(
        db_connection,
        advertiser_id="7011",
        advertiser_name="Deleted while syncing",
        details=ConnectionDetails("token-deleted", ("7011",)),
        key_hex=KEY,
        sync_schedule="hourly",
    )
    # A stand-in for Meltano that deletes the data source, as the platform would, mid-run.
    fake = tmp_path / "meltano"
    fake.write_text(
        f"#!{sys.executable}\n"
        "import os, psycopg\n"
        "with psycopg.connect('', autocommit=True) as conn:\n"
        "    conn.execute('DELETE FROM dra_data_sources WHERE id = %s',"
        f" ({data_source_id},))\n",
        encoding="utf-8",
    )
    fake.chmod(0o700)
    (tmp_path / "meltano.yml").touch()
    settings = RunnerSettings(
        key_hex=KEY,
        project_dir=tmp_path,
        meltano=str(fake),
        log_dir=tmp_path / "logs",
        base_env=dict(os.environ) | fresh_database | {"TMPDIR": tempfile.gettempdir()},
        connect=partial(connect_to, fresh_database),
    )
    outcome = sync_data_source(settings, data_source_id, require_due=False)
    assert outcome.status == "deleted"
    assert f"data source {data_source_id} was deleted during its run" in outcome.message
    gone = db_connection.execute(
        "SELECT count(*) FROM dra_data_sources WHERE id = %s", (data_source_id,)
    ).fetchone()
    assert gone == (0,)
