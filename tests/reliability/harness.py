"""Helpers of the fault-injection suite: the real `meltano run`, secrets, dumps, kills.

Every run of this suite uses distinctive secret values (``SECRET-...``), and every Meltano
command it runs is checked for them (stdout and stderr of Meltano, tap, target and dbt),
so a leak anywhere in the suite fails the test that caused it.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg

from devstack.postgres import PLACEHOLDER_PASSWORD
from dra_tiktok_ads.details import ConnectionDetails
from dra_tiktok_ads.registration import register_data_source
from tests.e2e.harness import (
    MELTANO,
    RAW_KEYS,
    REPO_ROOT,
    connect_to,
    isolated_environ,
    private_sys_dir,
    state_id,
)
from tiktok_sim import SimConfig, Simulator

ACCESS_TOKEN = "SECRET-ACCESS-9c41e7b2d05f"
APP_SECRET = "SECRET-APPSECRET-3f8a61c0"
APP_ID = "rel-app-id"
PG_PASSWORD = "SECRET-PGPASS-77d2"  # trust auth: any string works, so it can be a canary
KEY_HEX = "11" * 32
END_DATE = date(2026, 3, 31)
DAYS = 45  # two 30-day windows per advertiser
START_DATE = END_DATE - timedelta(days=DAYS - 1)
LOOKBACK_DAYS = 3
PAGE_SIZE = 50  # several pages per window, so faults and kills land mid-window
PIPELINE = ("tap-tiktok-ads", "target-postgres", "dbt-postgres:build")
EL = ("tap-tiktok-ads", "target-postgres")
REPORT = "/report/integrated/get/"
MARTS = ("advertiser_info", "campaign_performance", "ad_group_performance")
# Unique keys of the marts (the platform DDL) and of the raw tables (stream maps).
MART_KEYS = {
    "advertiser_info": ("data_source_id", "advertiser_id"),
    "campaign_performance": ("data_source_id", "stat_date", "campaign_id"),
    "ad_group_performance": ("data_source_id", "stat_date", "ad_group_id"),
}
_PROJECTS = itertools.count(1001)
_RUNS = itertools.count(1)
_SYS_DIRS: dict[int, Path] = {}


def sim_config(**overrides: Any) -> SimConfig:
    base: dict[str, Any] = {
        "seed": 11,
        "advertisers": 2,
        "campaigns": 3,
        "adgroups": 6,
        "days": DAYS,
        "end_date": END_DATE,
        "access_token": ACCESS_TOKEN,
        "app_id": APP_ID,
        "app_secret": APP_SECRET,
    }
    return SimConfig(**(base | overrides))


def secrets() -> list[str]:
    """The secret values every output of the suite is checked against."""
    return [ACCESS_TOKEN, APP_SECRET, PG_PASSWORD]


def leaked(text: str, extra: Iterable[str] = ()) -> list[str]:
    return [s for s in [*secrets(), *extra] if s and s in text]


def run_args(data_source_id: int, *pipeline: str, options: tuple[str, ...] = ()) -> tuple[str, ...]:
    """``meltano run`` of one data source, under its own state id (default: the whole job)."""
    return (
        "run",
        f"--state-id-suffix=data-source-{data_source_id}",
        *options,
        *(pipeline or PIPELINE),
    )


@dataclass
class Result:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stderr + self.stdout

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.output.splitlines()[-lines:])


@dataclass
class Pipeline:
    """One database, one Meltano system database, one simulator; runs the user's commands."""

    pg_env: dict[str, str]
    simulator: Simulator
    system_db: Path
    api_url: str = ""
    extra_secrets: list[str] = field(default_factory=list)
    transcripts: list[Result] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.api_url = self.api_url or self.simulator.api_url

    def connect(self) -> psycopg.Connection:
        return connect_to(self.pg_env)

    def register(self, advertiser_id: str, project_id: int | None = None) -> int:
        with self.connect() as conn:
            return register_data_source(
                conn,
                advertiser_id=advertiser_id,
                advertiser_name=f"Reliability {advertiser_id}",
                details=ConnectionDetails(ACCESS_TOKEN, (advertiser_id,), api_url=self.api_url),
                key_hex=KEY_HEX,
                project_id=project_id,
            )

    def new_source(self) -> int:
        """A data source of its own (a new platform project) for the first advertiser."""
        project = next(_PROJECTS)
        return self.register(self.simulator.dataset.advertiser_ids[0], project_id=project)

    def env(
        self, data_source_id: int | str, advertiser_ids: list[str], **settings: str
    ) -> dict[str, str]:
        tap = {
            "TAP_TIKTOK_ADS_API_URL": self.api_url,
            "TAP_TIKTOK_ADS_ACCESS_TOKEN": ACCESS_TOKEN,
            "TAP_TIKTOK_ADS_APP_ID": APP_ID,
            "TAP_TIKTOK_ADS_APP_SECRET": APP_SECRET,
            "TAP_TIKTOK_ADS_ADVERTISER_IDS": json.dumps(advertiser_ids),
            "TAP_TIKTOK_ADS_START_DATE": START_DATE.isoformat(),
            "TAP_TIKTOK_ADS_END_DATE": END_DATE.isoformat(),
            "TAP_TIKTOK_ADS_LOOKBACK_DAYS": str(LOOKBACK_DAYS),
            "TAP_TIKTOK_ADS_PAGE_SIZE": str(PAGE_SIZE),
            "TAP_TIKTOK_ADS_REQUEST_TIMEOUT": "5",
            "TAP_TIKTOK_ADS_DATA_SOURCE_ID": str(data_source_id),
        }
        for name, value in settings.items():
            key = f"TAP_TIKTOK_ADS_{name.upper()}"
            if value is None:
                tap.pop(key, None)
            else:
                tap[key] = value
        return (
            isolated_environ()
            | self.pg_env
            | self._password()
            | {
                "MELTANO_DATABASE_URI": f"sqlite:///{self.system_db}",
                "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
                "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            }
            | tap
        )

    def _password(self) -> dict[str, str]:
        # Under the private cluster's trust auth any password works: use a canary one.
        if self.pg_env.get("PGPASSWORD") == PLACEHOLDER_PASSWORD:
            return {"PGPASSWORD": PG_PASSWORD}
        return {}

    def private_sys_dir(self) -> dict[str, str]:
        """A system directory of this run's own (``private_sys_dir``): runs of one test may
        overlap (two data sources at once, a kill and its resume)."""
        self._last_sys_dir = self.system_db.parent / f"sys-{next(_RUNS)}"
        return private_sys_dir(self._last_sys_dir)

    def start(
        self, *args: str, data_source_id: int | str, advertiser_ids: list[str], **settings: Any
    ) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [MELTANO, *args],
            cwd=REPO_ROOT,
            env=self.env(data_source_id, advertiser_ids, **settings) | self.private_sys_dir(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        _SYS_DIRS[process.pid] = self._last_sys_dir
        return process

    def finish(self, process: subprocess.Popen[str], args: tuple[str, ...]) -> Result:
        try:
            stdout, stderr = process.communicate(timeout=300)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            stdout, stderr = process.communicate()
        result = Result(args, process.returncode, stdout, stderr)
        self.transcripts.append(result)
        found = leaked(result.output, self.extra_secrets)
        assert not found, f"secret(s) in the output of meltano {' '.join(args)}: {found}"
        # Meltano writes each plugin's config, secrets included, under run/ during the run;
        # none may be left behind, whatever happened to the run.
        sys_dir = _SYS_DIRS.pop(process.pid, None)
        for file in (sys_dir / "run").rglob("*") if sys_dir else []:
            if file.is_file():
                found = leaked(file.read_text(errors="replace"), self.extra_secrets)
                assert not found, f"{file.name} left behind with secret(s) {found}"
        return result

    def meltano(
        self,
        *args: str,
        data_source_id: int | str = 0,
        advertiser_ids: list[str] | None = None,
        check: bool = True,
        **settings: Any,
    ) -> Result:
        ids = (
            advertiser_ids if advertiser_ids is not None else self.simulator.dataset.advertiser_ids
        )
        process = self.start(*args, data_source_id=data_source_id, advertiser_ids=ids, **settings)
        result = self.finish(process, args)
        if check and result.returncode != 0:
            raise AssertionError(f"meltano {' '.join(args)} failed:\n{result.tail()}")
        return result

    def run(self, *pipeline: str, data_source_id: int, check: bool = True, **kw: Any) -> Result:
        return self.meltano(
            *run_args(data_source_id, *pipeline), data_source_id=data_source_id, check=check, **kw
        )

    def start_run(
        self,
        *pipeline: str,
        data_source_id: int,
        options: tuple[str, ...] = (),
        advertiser_ids: list[str] | None = None,
        **settings: Any,
    ) -> subprocess.Popen[str]:
        """``run`` in the background (default: the whole pipeline, every advertiser)."""
        return self.start(
            *run_args(data_source_id, *pipeline, options=options),
            data_source_id=data_source_id,
            advertiser_ids=(
                advertiser_ids
                if advertiser_ids is not None
                else self.simulator.dataset.advertiser_ids
            ),
            **settings,
        )

    def state(self, data_source_id: int) -> dict[str, Any]:
        result = self.meltano(
            "state", "get", state_id(data_source_id), data_source_id=data_source_id
        )
        text = result.stdout.strip()
        return json.loads(text) if text else {}

    # What landed

    def mart_dump(self, data_source_id: int) -> dict[str, list[tuple[Any, ...]]]:
        """Every mart row of a data source, ordered, without id, synced_at, data_source_id."""
        return self._dump("dra_tiktok_ads", MARTS, data_source_id, ("id", "synced_at"))

    def raw_dump(self, data_source_id: int) -> dict[str, list[tuple[Any, ...]]]:
        return self._dump(
            "tiktok_ads", tuple(RAW_KEYS), data_source_id, ("_sdc_",), prefix_excluded=True
        )

    def _dump(
        self,
        schema: str,
        tables: Iterable[str],
        data_source_id: int,
        excluded: tuple[str, ...],
        *,
        prefix_excluded: bool = False,
    ) -> dict[str, list[tuple[Any, ...]]]:
        dump: dict[str, list[tuple[Any, ...]]] = {}
        with self.connect() as conn:
            for table in tables:
                columns = [
                    r[0]
                    for r in conn.execute(
                        "SELECT column_name FROM information_schema.columns"
                        " WHERE table_schema = %s AND table_name = %s ORDER BY column_name",
                        (schema, table),
                    )
                ]
                keep = [
                    c
                    for c in columns
                    if c != "data_source_id"
                    and not (
                        any(c.startswith(p) for p in excluded) if prefix_excluded else c in excluded
                    )
                ]
                if not keep:
                    dump[table] = []
                    continue
                cols = ", ".join(f'"{c}"' for c in keep)
                rows = conn.execute(
                    f"SELECT {cols} FROM {schema}.{table} WHERE data_source_id = %s"
                    f" ORDER BY {cols}",
                    (data_source_id,),
                ).fetchall()
                dump[table] = [tuple(_normal(v) for v in row) for row in rows]
        return dump

    def duplicates(self, data_source_id: int) -> dict[str, int]:
        """Key values present more than once, per raw table and mart (all must be 0)."""
        found: dict[str, int] = {}
        with self.connect() as conn:
            for schema, keys in (("tiktok_ads", RAW_KEYS), ("dra_tiktok_ads", MART_KEYS)):
                for table, key in keys.items():
                    cols = ", ".join(key)
                    row = conn.execute(
                        f"SELECT count(*) FROM (SELECT {cols} FROM {schema}.{table}"
                        f" WHERE data_source_id = %s GROUP BY {cols} HAVING count(*) > 1) d",
                        (data_source_id,),
                    ).fetchone()
                    found[f"{schema}.{table}"] = int(row[0]) if row else -1
        return found

    def totals(self, data_source_id: int) -> dict[str, tuple[int, Decimal, int]]:
        """Rows, spend and impressions per performance mart."""
        out = {}
        with self.connect() as conn:
            for table in ("campaign_performance", "ad_group_performance"):
                row = conn.execute(
                    f"SELECT count(*), coalesce(sum(spend), 0), coalesce(sum(impressions), 0)"
                    f" FROM dra_tiktok_ads.{table} WHERE data_source_id = %s",
                    (data_source_id,),
                ).fetchone()
                assert row is not None
                out[table] = (int(row[0]), Decimal(row[1]), int(row[2]))
        return out


def _normal(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 6)
    return value


def expected_totals(simulator: Simulator) -> dict[str, tuple[int, Decimal, int]]:
    """Rows, spend and impressions the marts must hold, straight from the dataset."""
    from tiktok_sim.dataset import LEVEL_ADGROUP, LEVEL_CAMPAIGN

    ds = simulator.dataset
    out = {}
    for table, level in (
        ("campaign_performance", LEVEL_CAMPAIGN),
        ("ad_group_performance", LEVEL_ADGROUP),
    ):
        rows = spend = impressions = 0
        for advertiser_id in ds.advertiser_ids:
            rows += ds.report_row_count(level, advertiser_id, START_DATE, END_DATE)
            totals = ds.report_totals(level, advertiser_id, START_DATE, END_DATE)
            spend += totals["spend"]
            impressions += totals["impressions"]
        out[table] = (rows, Decimal(spend), impressions)
    return out


# Processes


def descendants(root: int) -> list[int]:
    """Every live process below ``root`` (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def find_process(root: int, executable: str) -> int | None:
    """The process below ``root`` running ``executable`` (a console script or binary)."""
    for pid in descendants(root):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        names = [Path(a.decode(errors="replace")).name for a in argv[:2] if a]
        if executable in names:
            return pid
    return None


def wait_for(condition: Callable[[], Any], timeout: float = 120, interval: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {condition}")


def kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def reports_served(simulator: Simulator) -> int:
    return simulator.stats.count(REPORT, outcome="0")


def bookmarks(state: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """``{stream: {advertiser_id: bookmark}}`` from a Meltano state."""
    out: dict[str, dict[str, str]] = {}
    singer = state.get("singer_state") or {}
    for stream, value in (singer.get("bookmarks") or {}).items():
        for partition in value.get("partitions") or []:
            advertiser = (partition.get("context") or {}).get("advertiser_id")
            if advertiser and partition.get("replication_key_value"):
                out.setdefault(stream, {})[advertiser] = partition["replication_key_value"]
    return out


def stored_state(system_db: Path, data_source_id: int) -> dict[str, Any]:
    """The state Meltano would hand the next run, read straight from its system database.

    (``meltano state get`` costs seconds; the kill loops check state after every kill.)
    Partial state, saved when a run fails, wins over the last completed state; the tap's
    STATE messages always carry every partition, so no deeper merge is needed.
    """
    import sqlite3

    with sqlite3.connect(system_db) as conn:
        row = conn.execute(
            "SELECT partial_state, completed_state FROM state WHERE state_id = ?",
            (state_id(data_source_id),),
        ).fetchone()
    if row is None:
        return {}
    partial, completed = (json.loads(v) if v else {} for v in row)
    return partial if partial.get("singer_state") else completed


def assert_state_covers_only_loaded_rows(pipeline: Pipeline, data_source_id: int) -> int:
    """Every bookmark promises that all rows up to it are in the raw tables; check that.

    Returns how many bookmarks were checked.
    """
    from tiktok_sim.dataset import LEVEL_ADGROUP, LEVEL_CAMPAIGN

    levels = {"campaign_performance": LEVEL_CAMPAIGN, "ad_group_performance": LEVEL_ADGROUP}
    marks = bookmarks(stored_state(pipeline.system_db, data_source_id))
    checked = 0
    with pipeline.connect() as conn:
        for stream, per_advertiser in marks.items():
            if stream not in levels:
                continue
            for advertiser_id, bookmark in per_advertiser.items():
                last = min(END_DATE, date.fromisoformat(bookmark[:10]))
                has_table = conn.execute(
                    "SELECT to_regclass(%s) IS NOT NULL", (f"tiktok_ads.{stream}",)
                ).fetchone()
                loaded = (0,)
                if has_table and has_table[0]:
                    loaded = conn.execute(
                        f"SELECT count(*) FROM tiktok_ads.{stream} WHERE data_source_id = %s"
                        " AND advertiser_id = %s AND stat_date <= %s",
                        (data_source_id, advertiser_id, last),
                    ).fetchone() or (0,)
                expected = pipeline.simulator.dataset.report_row_count(
                    levels[stream], advertiser_id, START_DATE, last
                )
                assert loaded == (expected,), (
                    f"state says {stream} of {advertiser_id} is complete up to {bookmark}, "
                    f"but {loaded[0]} of {expected} rows are loaded"
                )
                checked += 1
    return checked
