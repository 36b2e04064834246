"""tap-tiktok-ads-sync end to end: real PostgreSQL, the simulator, the real `meltano run`.

Every run goes through the console script as the platform's scheduler would call it, with
the pipeline settings of tests/e2e (14 days ending 2026-03-31) in its environment.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

import psycopg
import pytest

from dra_tiktok_ads import crypto
from dra_tiktok_ads.details import ConnectionDetails
from dra_tiktok_ads.registration import register_data_source
from dra_tiktok_ads.schedule import next_scheduled_sync
from dra_tiktok_ads.sync.raw_tables import RAW_TABLES
from tests.e2e.harness import (
    END_DATE,
    LOOKBACK_DAYS,
    RAW_KEYS,
    REPO_ROOT,
    START_DATE,
    connect_to,
)
from tests.tap.test_shared_budget_fleet import max_in_one_second
from tiktok_sim import SimConfig, Simulator

pytestmark = pytest.mark.e2e

KEY = "5e" * 32
SYNC = str(Path(sys.executable).parent / "tap-tiktok-ads-sync")
_ISOLATED = ("TAP_TIKTOK_ADS_", "TARGET_POSTGRES_", "MELTANO_", "DBT_", "TIKTOK_ADS_", "PG")


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    config = SimConfig(
        seed=7,
        advertisers=2,
        campaigns=3,
        adgroups=6,
        days=14,
        end_date=END_DATE,
        token_lifetime_s=3600,  # OAuth tokens expire and come with rotating refresh tokens
    )
    with Simulator(config) as simulator:
        yield simulator


class Platform:
    """The platform database of one test and the runner's command line."""

    def __init__(self, pg_env: Mapping[str, str], sim: Simulator, tmp_path: Path) -> None:
        self.pg_env = dict(pg_env)
        self.sim = sim
        self.log_dir = tmp_path / "logs"
        # The runs' private folders (decrypted tokens) in the test's own temporary folder: the
        # runner removes any earlier tiktok-sync-<id>-* folder of a data source, and other
        # test sessions on this machine use the same small data source ids.
        self.temp_dir = tmp_path / "tmp"
        self.temp_dir.mkdir(parents=True, exist_ok=True)
        self.system_db = tmp_path / "meltano.db"

    def connect(self) -> psycopg.Connection:
        return connect_to(self.pg_env)

    def oauth_tokens(self, advertiser_id: str) -> dict[str, str]:
        """Fresh OAuth tokens for one advertiser, as the connect flow would get them."""
        issued = self.sim.tokens.redeem_auth_code(self.sim.tokens.issue_auth_code([advertiser_id]))
        assert issued.refresh_token
        expires = datetime.now(timezone.utc) + timedelta(seconds=issued.access_expires_in or 0)
        return {
            "access_token": issued.access_token,
            "refresh_token": issued.refresh_token,
            "token_expires_at": expires.isoformat(),
            "app_id": self.sim.config.app_id,
        }

    def register(
        self,
        advertiser_id: str,
        *,
        project_id: int,
        schedule: str,
        tokens: Mapping[str, str] | None = None,
        at: time | None = None,
        next_run: timedelta | None = None,
    ) -> int:
        details = {"access_token": self.sim.config.access_token, "api_url": self.sim.api_url}
        details |= dict(tokens or {})
        with self.connect() as conn:
            data_source_id = register_data_source(
                conn,
                advertiser_id=advertiser_id,
                advertiser_name=f"Test {advertiser_id}",
                details=ConnectionDetails.from_json(details | {"advertiser_ids": [advertiser_id]}),
                key_hex=KEY,
                sync_schedule=schedule,
                project_id=project_id,
            )
            conn.execute(
                "UPDATE dra_data_sources SET sync_schedule_time = %s,"
                " next_scheduled_sync = (now() AT TIME ZONE 'UTC') + %s WHERE id = %s",
                (at, next_run, data_source_id),
            )
        return data_source_id

    def env(self) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith(_ISOLATED)}
        base.pop("ENCRYPTION_KEY", None)
        return (
            base
            | self.pg_env
            | {
                "ENCRYPTION_KEY": KEY,
                "MELTANO_DATABASE_URI": f"sqlite:///{self.system_db}",
                "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
                "TMPDIR": str(self.temp_dir),
                "TIKTOK_ADS_APP_ID": self.sim.config.app_id,
                "TIKTOK_ADS_APP_SECRET": self.sim.config.app_secret,
                "TAP_TIKTOK_ADS_START_DATE": START_DATE.isoformat(),
                "TAP_TIKTOK_ADS_END_DATE": END_DATE.isoformat(),
                "TAP_TIKTOK_ADS_LOOKBACK_DAYS": str(LOOKBACK_DAYS),
            }
        )

    def command(self, *args: str) -> list[str]:
        return [SYNC, *args, "--json", "--log-dir", str(self.log_dir)]

    def sync(self, *args: str) -> tuple[int, dict[int, dict[str, Any]], str]:
        result = subprocess.run(
            self.command(*args),
            cwd=REPO_ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        return result.returncode, parse_outcomes(result.stdout), result.stdout + result.stderr

    def row(self, data_source_id: int) -> dict[str, Any]:
        with self.connect() as conn:
            cursor = conn.execute(
                "SELECT sync_status, last_sync_at, sync_error_message, total_records_synced,"
                " next_scheduled_sync, sync_schedule_time, connection_details"
                " FROM dra_data_sources WHERE id = %s",
                (data_source_id,),
            )
            names = [c.name for c in cursor.description or []]
            values = cursor.fetchone()
            assert values is not None
            return dict(zip(names, values, strict=True))

    def raw_rows(self, data_source_id: int) -> dict[str, int]:
        with self.connect() as conn:
            counts = {}
            for table in RAW_KEYS:
                exists = conn.execute("SELECT to_regclass(%s)", (f"tiktok_ads.{table}",)).fetchone()
                if not exists or exists[0] is None:
                    counts[table] = 0
                    continue
                row = conn.execute(
                    f"SELECT count(*) FROM tiktok_ads.{table} WHERE data_source_id = %s",
                    (data_source_id,),
                ).fetchone()
                counts[table] = int(row[0]) if row else 0
            return counts

    def advertisers_loaded(self, data_source_id: int) -> set[str]:
        with self.connect() as conn:
            rows = conn.execute(
                "SELECT DISTINCT advertiser_id FROM tiktok_ads.campaign_performance"
                " WHERE data_source_id = %s",
                (data_source_id,),
            ).fetchall()
            return {str(r[0]) for r in rows}

    def mart_rows(self, data_source_id: int) -> int:
        with self.connect() as conn:
            row = conn.execute(
                "SELECT count(*) FROM dra_tiktok_ads.campaign_performance"
                " WHERE data_source_id = %s",
                (data_source_id,),
            ).fetchone()
            return int(row[0]) if row else 0

    def details(self, data_source_id: int) -> dict[str, Any]:
        return crypto.decrypt_details(self.row(data_source_id)["connection_details"], KEY)


def parse_outcomes(stdout: str) -> dict[int, dict[str, Any]]:
    outcomes = {}
    for line in stdout.splitlines():
        if line.startswith("{"):
            outcome = json.loads(line)
            outcomes[int(outcome["data_source_id"])] = outcome
    return outcomes


@pytest.fixture
def platform(
    meltano_plugins: None, fresh_database: Mapping[str, str], sim: Simulator, tmp_path: Path
) -> Platform:
    sim.faults.clear()
    sim.stats.reset()
    return Platform(fresh_database, sim, tmp_path)


def utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def test_due_syncs_exactly_the_due_sources_and_a_revoked_one_fails_alone(
    platform: Platform,
) -> None:
    first, second = platform.sim.dataset.advertiser_ids
    daily = platform.register(
        first, project_id=1, schedule="daily", at=time(6, 30), next_run=-timedelta(minutes=5)
    )
    hourly_tokens = platform.oauth_tokens(second)
    hourly = platform.register(second, project_id=1, schedule="hourly", tokens=hourly_tokens)
    revoked_tokens = platform.oauth_tokens(first)
    weekly = platform.register(
        first, project_id=2, schedule="weekly", tokens=revoked_tokens, next_run=-timedelta(hours=1)
    )
    later = platform.register(second, project_id=2, schedule="daily", next_run=timedelta(days=1))
    manual = platform.register(second, project_id=3, schedule="manual")
    # The user revoked the app's access for the weekly data source's account.
    platform.sim.faults.revoke_token(revoked_tokens["access_token"])
    platform.sim.faults.revoke_token(revoked_tokens["refresh_token"])

    before = utc_now()
    code, outcomes, output = platform.sync("--due", "--max-parallel", "2")
    after = utc_now()

    assert code == 1, output  # one data source failed
    assert set(outcomes) == {daily, hourly, weekly}, output
    assert outcomes[daily]["status"] == "completed", output
    assert outcomes[hourly]["status"] == "completed", output
    assert outcomes[weekly]["status"] == "failed", output

    # Each completed source got its own advertiser's data, stamped with its own id.
    assert platform.advertisers_loaded(daily) == {first}
    assert platform.advertisers_loaded(hourly) == {second}
    for data_source_id in (daily, hourly):
        raw = platform.raw_rows(data_source_id)
        assert all(raw.values()), raw
        assert platform.mart_rows(data_source_id) == raw["campaign_performance"]
        row = platform.row(data_source_id)
        assert row["sync_status"] == "completed"
        assert row["sync_error_message"] is None
        assert before <= row["last_sync_at"] <= after
        # A first run writes every row once: the records synced are the rows loaded.
        assert row["total_records_synced"] == sum(raw.values())
    for untouched in (later, manual, weekly):
        assert sum(platform.raw_rows(untouched).values()) == 0
    # The parallel runs drew from the app's one request budget in the platform database.
    with platform.connect() as conn:
        keys = [row[0] for row in conn.execute("SELECT budget_key FROM tap_tiktok_ads_rate_budget")]
    assert keys == [platform.sim.config.app_id]
    requests_received = [r.received_at for r in platform.sim.stats.requests()]
    assert max_in_one_second(requests_received) <= 10  # the default max_requests_per_second
    assert platform.sim.stats.rate_limited == 0  # the simulator's app limit: 10 per second
    # One dbt build for the whole cycle, after the loads, its outcome in run_results.json.
    assert len(list(platform.log_dir.glob("dbt-build-*.log"))) == 1
    results = json.loads((platform.log_dir / "dbt-target" / "run_results.json").read_text())
    assert results["results"]
    assert {r["status"] for r in results["results"]} <= {"success", "pass"}
    # The first-load gate waits for exactly the tables target-postgres creates (the tap's).
    with platform.connect() as conn:
        query = "SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = 'tiktok_ads'"
        assert {row[0] for row in conn.execute(query)} == set(RAW_TABLES)

    # Next runs from the schedule, in UTC.
    def scheduled_from_start(data_source_id: int, schedule: str) -> bool:
        """The next run counts from the moment the data source's run started, which is
        between ``before`` and ``after`` (on a busy machine, not in their minute)."""
        at = platform.row(data_source_id)["sync_schedule_time"]
        earliest, latest = (next_scheduled_sync(schedule, at, m) for m in (before, after))
        assert earliest is not None
        assert latest is not None
        return earliest <= platform.row(data_source_id)["next_scheduled_sync"] <= latest

    assert scheduled_from_start(daily, "daily")
    assert platform.row(daily)["next_scheduled_sync"].time() == time(6, 30)
    assert scheduled_from_start(hourly, "hourly")
    assert scheduled_from_start(weekly, "weekly")
    assert platform.row(later)["sync_status"] is None
    assert platform.row(manual)["next_scheduled_sync"] is None

    # The failure is actionable and carries no secret.
    failed = platform.row(weekly)
    assert failed["sync_status"] == "failed"
    assert before <= failed["last_sync_at"] <= after
    message = failed["sync_error_message"]
    assert message.startswith("Sync failed"), message
    assert "reconnect" in message.lower(), message
    for secret in (*revoked_tokens.values(), KEY, platform.sim.config.app_secret):
        if secret != platform.sim.config.app_id:
            assert secret not in message
    # ... nor do the logs.
    logs = "".join(p.read_text(encoding="utf-8") for p in platform.log_dir.glob("*.log"))
    assert logs
    for secret in (hourly_tokens["access_token"], hourly_tokens["refresh_token"], KEY):
        assert secret not in logs

    # Nothing is due any more: a second tick does nothing.
    code, outcomes, output = platform.sync("--due")
    assert (code, outcomes) == (0, {}), output


def test_two_due_invocations_never_sync_the_same_source_twice(platform: Platform) -> None:
    first, second = platform.sim.dataset.advertiser_ids
    ids = [
        platform.register(first, project_id=1, schedule="hourly"),
        platform.register(second, project_id=1, schedule="daily"),
    ]
    processes = [
        subprocess.Popen(
            platform.command("--due", "--max-parallel", "2"),
            cwd=REPO_ROOT,
            env=platform.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    results = [process.communicate(timeout=900) for process in processes]
    outputs = [stdout for stdout, _ in results]
    assert [p.returncode for p in processes] == [0, 0], outputs

    completed: dict[int, int] = dict.fromkeys(ids, 0)
    for stdout in outputs:
        for data_source_id, outcome in parse_outcomes(stdout).items():
            assert outcome["status"] in {"completed", "skipped"}, outcome
            completed[data_source_id] += outcome["status"] == "completed"
    assert completed == dict.fromkeys(ids, 1), outputs
    # One meltano run (one log; a start-up retry on Meltano's own database aside) each.
    for data_source_id in ids:
        logs = platform.log_dir.glob(f"data-source-{data_source_id}-*.log")
        assert len([log for log in logs if "-retry" not in log.name]) == 1
        assert platform.row(data_source_id)["sync_status"] == "completed"


def test_one_catalog_discovery_per_cycle_and_every_run_loads_the_same_streams(
    platform: Platform,
) -> None:
    """The first run of a cycle discovers the tap's catalog; the runs after it use that one
    (sync/catalog.py) and load the same streams, selection included."""
    first, second = platform.sim.dataset.advertiser_ids
    ids = [
        platform.register(advertiser, project_id=project, schedule="hourly")
        for project, advertiser in enumerate((first, second, first), start=1)
    ]
    code, outcomes, output = platform.sync("--due", "--max-parallel", "1")  # one after another
    assert code == 0, output
    assert {ds: outcome["status"] for ds, outcome in outcomes.items()} == dict.fromkeys(
        ids, "completed"
    ), output

    def run_log(data_source_id: int) -> str:
        (log,) = platform.log_dir.glob(f"data-source-{data_source_id}-*.log")
        return log.read_text(encoding="utf-8")

    discovered = [ds for ds in ids if "Running catalog discovery" in run_log(ds)]
    reused = [ds for ds in ids if "Using custom catalog" in run_log(ds)]
    assert len(discovered) == 1, output
    assert sorted(discovered + reused) == sorted(ids)
    tables = {ds: {t for t, n in platform.raw_rows(ds).items() if n} for ds in ids}
    assert all(loaded == set(RAW_KEYS) for loaded in tables.values()), tables
    assert platform.raw_rows(ids[2]) == platform.raw_rows(ids[0])  # same advertiser, same rows
    # A later cycle discovers again: nothing of a cycle's catalog outlives it.
    assert not list(platform.temp_dir.glob("tiktok-sync-catalog-*"))


def test_rotated_token_is_persisted_encrypted_and_used_by_the_next_run(
    platform: Platform,
) -> None:
    advertiser = platform.sim.dataset.advertiser_ids[1]
    tokens = platform.oauth_tokens(advertiser)
    # The access token is about to expire: the tap refreshes first, which rotates both.
    tokens["token_expires_at"] = (datetime.now(timezone.utc) - timedelta(minutes=1)).isoformat()
    data_source_id = platform.register(advertiser, project_id=1, schedule="manual", tokens=tokens)

    code, outcomes, output = platform.sync("--data-source", str(data_source_id))
    assert code == 0, output
    assert outcomes[data_source_id]["status"] == "completed", output
    assert outcomes[data_source_id]["tokens_rotated"] is True
    assert platform.sim.stats.count(endpoint="/oauth2/refresh_token/") == 1

    stored = platform.details(data_source_id)
    assert stored["access_token"] != tokens["access_token"]
    assert stored["refresh_token"] != tokens["refresh_token"]
    assert datetime.fromisoformat(stored["token_expires_at"]) > datetime.now(timezone.utc)
    assert stored["advertiser_ids"] == [advertiser]
    assert stored["api_url"] == platform.sim.api_url
    raw = json.dumps(platform.row(data_source_id)["connection_details"])
    assert set(json.loads(raw)) == {"version", "iv", "authTag", "encrypted"}
    assert stored["access_token"] not in raw
    assert stored["refresh_token"] not in raw
    assert platform.row(data_source_id)["next_scheduled_sync"] is None  # manual

    # The old access token is dead (and the old refresh token was used up by the rotation):
    # the next run can only work with the persisted new tokens.
    platform.sim.faults.revoke_token(tokens["access_token"])
    code, outcomes, output = platform.sync("--data-source", str(data_source_id))
    assert code == 0, output
    assert outcomes[data_source_id]["status"] == "completed", output
    assert outcomes[data_source_id]["tokens_rotated"] is False
    assert platform.sim.stats.count(endpoint="/oauth2/refresh_token/") == 1
    assert platform.details(data_source_id)["access_token"] == stored["access_token"]
    row = platform.row(data_source_id)
    assert row["sync_status"] == "completed"
    # An incremental run re-reads only the lookback window.
    assert 0 < row["total_records_synced"] < sum(platform.raw_rows(data_source_id).values())
