"""Run the benchmark phases against the simulator and print one table.

    python -m benchmarks --size small|large [--skip PHASE ...]      (make bench SIZE=large)
    python -m benchmarks --fleet [--data-sources 50] [--app-qps 10]  (benchmarks.fleet)

Phases (each can be skipped; see docs/performance.md for method and figures):

* ``ratelimit``   tap alone, simulator latency 300 ms, max_requests_per_second 10: a
                  backfill's requests per stream vs the API's minimum, wall vs requests / 10.
* ``throughput``  tap alone, no latency, throttle out of the way: records/s (wall and per
                  tap-CPU-second), simulator CPU, tap peak RSS.
* ``floor``       a bare requests + json + COPY loop over the same pages (benchmarks.floor).
* ``e2e``         ``meltano run tiktok-ads`` (tap -> target-postgres -> dbt build) into
                  PostgreSQL: records/s, CPU and peak RSS per process, dbt full build time.
* ``incremental`` next day (simulator data one day longer): tap alone with the backfill's
                  state (requests vs minimum), then the daily ``meltano run`` (dbt time/rows).
* ``memory``      (large only) the tap and the pipeline at the small size too, so peak RSS of
                  each process can be compared small vs large.

Nothing is installed here: ``make install`` (uv sync + meltano install) provides everything.
PostgreSQL: yours when PGHOST etc. are set (a database ``tiktok_ads_bench_<size>`` is dropped
and created there), else a private cluster under ``.local/pg-bench``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import IO, Any

from benchmarks import expected, pipeline, procs
from benchmarks.simulator import (
    ACCESS_TOKEN,
    SimulatorProcess,
    report_pages,
    requests_by_stream,
)
from benchmarks.sizes import END_DATE, LOOKBACK_DAYS, PAGE_SIZE, SIZES, Size
from devstack.postgres import conninfo
from devstack.project import private_project, send_records

PHASES = ("ratelimit", "throughput", "floor", "e2e", "incremental", "memory")
LATENCY_MS = 300
RATE_LIMIT = 10.0
UNTHROTTLED = 1000.0
TARGETS = {
    "wall_ratio": 1.2,
    "tap_rps": 25_000,
    "e2e_rps": 12_000,
    "rss_mb": 300,
    "rss_growth": 0.20,
}
MB = 1024 * 1024
REPO_ROOT = pipeline.REPO_ROOT
VENV_BIN = Path(sys.executable).parent


def say(message: str = "") -> None:
    print(message, flush=True)


@dataclass
class Row:
    section: str
    metric: str
    value: str
    target: str = ""
    verdict: str = ""


@dataclass
class TapRun:
    run: procs.RunResult
    records: int
    state: dict[str, Any] | None
    sim_cpu: float
    requests: dict[str, int]
    pages: list[tuple[str, dict[str, str]]] = field(repr=False, default_factory=list)
    rate_limited: int = 0  # 40100 answers from the simulator's per-app QPS limit

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())


class OutputCounter:
    """Reads the tap's stdout: counts RECORD lines, keeps the last STATE (cheap: bytes ops)."""

    def __init__(self) -> None:
        self.records = 0
        self.last_state: bytes | None = None

    def __call__(self, stream: IO[bytes]) -> None:
        carry = b""
        while chunk := stream.read(1 << 20):
            data = carry + chunk
            cut = data.rfind(b"\n") + 1
            complete, carry = data[:cut], data[cut:]
            self._scan(complete)
        self._scan(carry)

    def _scan(self, data: bytes) -> None:
        self.records += data.count(b'"type":"RECORD"') + data.count(b'"type": "RECORD"')
        at = max(data.rfind(b'{"type":"STATE"'), data.rfind(b'{"type": "STATE"'))
        if at >= 0:
            end = data.find(b"\n", at)
            self.last_state = data[at : end if end >= 0 else len(data)]

    def state_value(self) -> dict[str, Any] | None:
        if self.last_state is None:
            return None
        value: dict[str, Any] = json.loads(self.last_state)["value"]
        return value


class Benchmark:
    def __init__(self, size: Size, skip: set[str], out_dir: Path) -> None:
        self.size = size
        self.skip = skip
        self.out_dir = out_dir
        self.rows: list[Row] = []
        self.notes: set[str] = set()
        self.e2e_timeout = 900.0
        self.e2e_killed = False
        self.pg_options = ""
        self.last_server_cpu: float | None = None
        self.batch = True  # the project's default: BATCH messages
        self.results: dict[str, Any] = {"size": asdict(size), "phases": {}}
        self.started = time.perf_counter()

    # helpers

    def add(
        self, section: str, metric: str, value: str, target: str = "", verdict: str = ""
    ) -> None:
        self.rows.append(Row(section, metric, value, target, verdict))
        self.out_dir.mkdir(parents=True, exist_ok=True)
        (self.out_dir / "partial-table.txt").write_text(self.table() + "\n", encoding="utf-8")

    def log(self, message: str) -> None:
        say(f"[{time.perf_counter() - self.started:6.1f} s] {message}")

    def tap_config(
        self, sim: SimulatorProcess, advertiser_ids: list[str], end: date, rps: float
    ) -> dict[str, Any]:
        return {
            "access_token": ACCESS_TOKEN,
            "advertiser_ids": advertiser_ids,
            "start_date": self.size.first_day.isoformat(),
            "end_date": end.isoformat(),
            "api_url": sim.api_url,
            "max_requests_per_second": rps,
            "page_size": PAGE_SIZE,
            "lookback_days": LOOKBACK_DAYS,
            "include_deleted": True,
        }

    def run_tap(
        self,
        name: str,
        sim: SimulatorProcess,
        config: dict[str, Any],
        state: dict[str, Any] | None = None,
        latency_ms: int = 0,
    ) -> TapRun:
        work = self.out_dir / name
        work.mkdir(parents=True, exist_ok=True)
        config_path = work / "config.json"
        config_path.write_text(json.dumps(config), encoding="utf-8")
        command = [str(VENV_BIN / "tap-tiktok-ads"), "--config", str(config_path)]
        if state is not None:
            state_path = work / "state.json"
            state_path.write_text(json.dumps(state), encoding="utf-8")
            command += ["--state", str(state_path)]
        # Also clears faults, so the latency is set after it. A run paced at the app's rate
        # meets the simulator's per-app QPS limit of 10 (issue 16); faster runs do not.
        rps = float(config["max_requests_per_second"])
        sim.reset(app_qps_limit=int(RATE_LIMIT) if rps <= RATE_LIMIT else None)
        if latency_ms:
            sim.set_latency(latency_ms)
        cpu_before = sim.cpu_seconds()
        counter = OutputCounter()
        with (work / "tap.log").open("wb") as log:
            result = procs.run(command, stderr=log, consume=counter)
        sim_cpu = sim.cpu_seconds() - cpu_before
        if result.returncode != 0:
            tail = (work / "tap.log").read_text(encoding="utf-8").splitlines()[-15:]
            raise RuntimeError(f"tap failed ({result.returncode}):\n" + "\n".join(tail))
        stats = sim.stats(log=True)
        return TapRun(
            result,
            counter.records,
            counter.state_value(),
            sim_cpu,
            requests_by_stream(stats),
            report_pages(stats),
            int(stats.get("rate_limited", 0)),
        )

    def compare_requests(
        self, section: str, actual: dict[str, int], minimum: dict[str, int]
    ) -> bool:
        all_equal = True
        for stream in sorted(set(actual) | set(minimum)):
            got, least = actual.get(stream, 0), minimum.get(stream, 0)
            equal = got == least
            all_equal &= equal
            self.add(
                section, f"requests {stream}", str(got), f"= {least}", "ok" if equal else "MISS"
            )
        got, least = sum(actual.values()), sum(minimum.values())
        self.add(
            section, "requests total", str(got), f"= {least}", "ok" if got == least else "MISS"
        )
        return all_equal

    def check_minimum(self, start: date, end: date, last_day: date) -> dict[str, int]:
        minimum = expected.minimum_requests(self.size, start, end, last_day)
        from_dataset = expected.dataset_minimum(self.size, start, end, last_day)
        if minimum != from_dataset:
            msg = f"minimum from arithmetic {minimum} != from the dataset {from_dataset}"
            raise RuntimeError(msg)
        return minimum

    # phases

    def run(self) -> None:
        size = self.size
        self.out_dir.mkdir(parents=True, exist_ok=True)
        missing = pipeline.missing_plugins()
        if missing and not {"e2e", "incremental"} <= self.skip:
            msg = f"Meltano plugins are not installed ({', '.join(missing)}): run `make install`."
            raise RuntimeError(msg)
        with pipeline.postgres_server(self.out_dir) as (server_env, where):
            self.log(f"PostgreSQL: {where}")
            self.results["postgres"] = where
            backfill_state = self.backfill_phases(server_env)
            self.incremental_phases(backfill_state)
            if size.name == "large" and "memory" not in self.skip:
                self.memory_baseline(server_env)
        self.memory_rows()
        self.results["rows"] = [asdict(r) for r in self.rows]
        self.results["total_seconds"] = time.perf_counter() - self.started

    def backfill_phases(self, server_env: dict[str, str]) -> dict[str, Any] | None:
        size = self.size
        minimum = self.check_minimum(size.first_day, END_DATE, END_DATE)
        state: dict[str, Any] | None = None
        pages: list[tuple[str, dict[str, str]]] = []
        log = self.out_dir / "simulator-backfill.log"
        with SimulatorProcess(size, days=size.days, end_date=END_DATE, log_path=log) as sim:
            ids = sim.advertiser_ids()
            self.results["advertiser_ids"] = ids
            self.log(f"simulator {size.describe()} at {sim.base_url}, data ends {END_DATE}")
            if "ratelimit" not in self.skip:
                self.log(f"ratelimit: tap backfill, latency {LATENCY_MS} ms, {RATE_LIMIT:g} req/s")
                tap = self.run_tap(
                    "ratelimit",
                    sim,
                    self.tap_config(sim, ids, END_DATE, RATE_LIMIT),
                    latency_ms=LATENCY_MS,
                )
                state, pages = tap.state, tap.pages
                self.record_ratelimit(tap, minimum)
            if "throughput" not in self.skip:
                self.log("throughput: tap backfill to a byte counter, no latency, unthrottled")
                tap = self.run_tap(
                    "throughput", sim, self.tap_config(sim, ids, END_DATE, UNTHROTTLED)
                )
                self.record_throughput(tap, minimum, first=state is None)
                state = state or tap.state
                pages = pages or tap.pages
            if "floor" not in self.skip and pages:
                self.run_floor(sim, pages, server_env)
            if "e2e" not in self.skip:
                self.run_e2e_backfill(sim, ids, server_env)
        return state

    def record_ratelimit(self, tap: TapRun, minimum: dict[str, int]) -> None:
        section = "backfill requests (tap, 300 ms latency)"
        self.compare_requests(section, tap.requests, minimum)
        limit = tap.total_requests / RATE_LIMIT
        ratio = tap.run.wall / limit
        section = "wall time vs rate limit (300 ms, 10 req/s)"
        extraction = extraction_seconds(self.out_dir / "ratelimit" / "tap.log") or tap.run.wall
        ratio = extraction / limit
        self.add(section, "records", f"{tap.records:,}")
        self.add(section, "tap process wall s (incl. start-up)", f"{tap.run.wall:.1f}")
        self.add(section, "process wall / limit", f"{tap.run.wall / limit:.2f}")
        self.add(section, "extraction wall s (first sync to end)", f"{extraction:.1f}")
        self.add(section, "limit s = requests / 10", f"{limit:.1f}")
        target = TARGETS["wall_ratio"]
        self.add(
            section,
            "ratio extraction wall / limit",
            f"{ratio:.2f}",
            f"<= {target}",
            _ok(ratio <= target),
        )
        self.add(section, "tap CPU s / simulator CPU s", f"{tap.run.cpu:.1f} / {tap.sim_cpu:.1f}")
        self.add(
            section,
            "40100 from the app's QPS limit (10/s)",
            str(tap.rate_limited),
            "0",
            _ok(tap.rate_limited == 0),
        )
        self.results["phases"]["ratelimit"] = {
            "wall": tap.run.wall,
            "extraction": extraction,
            "requests": tap.requests,
            "minimum": minimum,
            "records": tap.records,
            "tap_cpu": tap.run.cpu,
            "sim_cpu": tap.sim_cpu,
            "tap_rss": tap.run.peak_rss,
            "rate_limited": tap.rate_limited,
        }

    def record_throughput(self, tap: TapRun, minimum: dict[str, int], *, first: bool) -> None:
        if first:
            self.compare_requests("backfill requests (tap)", tap.requests, minimum)
        section = "throughput, no latency"
        wall_rps = tap.records / tap.run.wall
        cpu_rps = tap.records / tap.run.cpu
        target = TARGETS["tap_rps"]
        self.add(
            section,
            "tap records",
            f"{tap.records:,}",
            f"= {self.size.records:,}",
            _ok(tap.records == self.size.records),
        )
        self.add(
            section,
            "tap wall s / tap CPU s / sim CPU s",
            f"{tap.run.wall:.1f} / {tap.run.cpu:.1f} / {tap.sim_cpu:.1f}",
        )
        self.add(
            section,
            "tap records/s (wall)",
            f"{wall_rps:,.0f}",
            f">= {target:,}",
            _ok(wall_rps >= target),
        )
        self.add(section, "tap records per tap-CPU-s", f"{cpu_rps:,.0f}")
        self.results["phases"]["throughput"] = {
            "wall": tap.run.wall,
            "records": tap.records,
            "tap_cpu": tap.run.cpu,
            "sim_cpu": tap.sim_cpu,
            "tap_rss": tap.run.peak_rss,
            "requests": tap.requests,
        }

    def run_floor(
        self,
        sim: SimulatorProcess,
        pages: list[tuple[str, dict[str, str]]],
        server_env: dict[str, str],
    ) -> None:
        self.log(f"floor: bare requests + json + COPY loop over the same {len(pages)} pages")
        pg_env = pipeline.fresh_database(server_env, f"tiktok_ads_bench_{self.size.name}")
        work = self.out_dir / "floor"
        work.mkdir(parents=True, exist_ok=True)
        (work / "pages.json").write_text(json.dumps(pages), encoding="utf-8")
        sim.reset()
        cpu_before = sim.cpu_seconds()
        with (work / "floor.out").open("wb") as out, (work / "floor.log").open("wb") as err:
            result = procs.run(
                [
                    sys.executable,
                    "-m",
                    "benchmarks.floor",
                    "--api-url",
                    sim.api_url,
                    "--pages",
                    str(work / "pages.json"),
                    "--dsn",
                    conninfo(pg_env),
                ],
                cwd=REPO_ROOT,
                stdout=out,
                stderr=err,
            )
        sim_cpu = sim.cpu_seconds() - cpu_before
        if result.returncode != 0:
            raise RuntimeError(f"floor failed; see {work / 'floor.log'}")
        records = int(json.loads((work / "floor.out").read_text(encoding="utf-8"))["records"])
        section = "floor (bare loop: requests, json, COPY)"
        self.add(section, "records", f"{records:,}")
        self.add(
            section,
            "wall s / floor CPU s / sim CPU s",
            f"{result.wall:.1f} / {result.cpu:.1f} / {sim_cpu:.1f}",
        )
        self.add(section, "records/s (wall)", f"{records / result.wall:,.0f}")
        self.add(section, "records per floor-CPU-s", f"{records / result.cpu:,.0f}")
        tput = self.results["phases"].get("throughput")
        if tput:
            tap_wall, tap_cpu = tput["records"] / tput["wall"], tput["records"] / tput["tap_cpu"]
            self.add(
                section,
                "tap / floor, records/s (wall)",
                f"{tap_wall / (records / result.wall):.2f}",
            )
            self.add(
                section, "tap / floor, records per CPU-s", f"{tap_cpu / (records / result.cpu):.2f}"
            )
        self.results["phases"]["floor"] = {
            "wall": result.wall,
            "records": records,
            "cpu": result.cpu,
            "sim_cpu": sim_cpu,
            "rss": result.peak_rss,
        }

    def meltano(
        self,
        name: str,
        sim: SimulatorProcess,
        pg_env: dict[str, str],
        settings: dict[str, Any],
        work: Path,
    ) -> tuple[procs.RunResult, dict[str, int], float, list[str]]:
        """One `meltano run`; also notes the PostgreSQL server's CPU in ``last_server_cpu``."""
        env = pipeline.meltano_env(pg_env, settings, work, self.pg_options)
        if self.pg_options:
            self.notes.add(f"meltano runs with PGOPTIONS={self.pg_options!r} (--pg-options)")
        project = private_project(work, None if self.batch else send_records)
        command = [str(VENV_BIN / "meltano"), "run", "--state-id-suffix=bench", "tiktok-ads"]
        sim.reset()
        cpu_before = sim.cpu_seconds()
        server_before = pipeline.server_cpu_seconds(pg_env)
        log_path = work / f"meltano-{name}.log"
        stuck: list[str] = []

        def note_stuck() -> None:
            stuck.extend(pipeline.active_dbt_nodes(pg_env))

        with log_path.open("wb") as log:
            result = procs.run(
                command,
                env=env,
                cwd=project,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=self.e2e_timeout,
                on_timeout=note_stuck,
            )
        sim_cpu = sim.cpu_seconds() - cpu_before
        server_after = pipeline.server_cpu_seconds(pg_env)
        self.last_server_cpu = (
            server_after - server_before
            if server_before is not None and server_after is not None
            else None
        )
        text = log_path.read_text(encoding="utf-8", errors="replace")
        if result.returncode != 0 and not result.timed_out:
            tail = "\n".join(text.splitlines()[-25:])
            raise RuntimeError(f"meltano run failed ({result.returncode}); {log_path}:\n{tail}")
        return result, pipeline.records_from_log(text), sim_cpu, stuck

    def e2e_settings(
        self, sim: SimulatorProcess, ids: list[str], end: date, source: int
    ) -> dict[str, Any]:
        return {
            "api_url": sim.api_url,
            "access_token": ACCESS_TOKEN,
            "advertiser_ids": ids,
            "start_date": self.size.first_day.isoformat(),
            "end_date": end.isoformat(),
            "lookback_days": str(LOOKBACK_DAYS),
            "max_requests_per_second": str(int(UNTHROTTLED)),
            "data_source_id": str(source),
        }

    def run_e2e_backfill(
        self, sim: SimulatorProcess, ids: list[str], server_env: dict[str, str]
    ) -> None:
        self.log("e2e: meltano run tiktok-ads (tap -> target-postgres -> dbt build), backfill")
        pg_env = pipeline.fresh_database(server_env, f"tiktok_ads_bench_{self.size.name}")
        work = self.out_dir / "e2e"
        work.mkdir(parents=True, exist_ok=True)
        (work / "meltano.db").unlink(missing_ok=True)
        source = pipeline.register(pg_env, ids, sim.api_url)
        self.results["e2e_env"] = {"pg": pg_env, "data_source_id": source}
        result, records, sim_cpu, stuck = self.meltano(
            "backfill", sim, pg_env, self.e2e_settings(sim, ids, END_DATE, source), work
        )
        total = sum(records.values())
        kinds = result.by_kind()
        section = "end to end: meltano run (backfill, incl. dbt)"
        rps = total / result.wall
        self.add(
            section,
            "records",
            f"{total:,}",
            f"= {self.size.records:,}",
            _ok(total == self.size.records),
        )
        self.add(section, "wall s (whole meltano run)", f"{result.wall:.1f}")
        self.add(
            section,
            "records/s (wall, incl. dbt)",
            f"{rps:,.0f}",
            f">= {TARGETS['e2e_rps']:,}",
            _ok(rps >= TARGETS["e2e_rps"]),
        )
        floor = self.results["phases"].get("floor")
        if floor:
            floor_rps = floor["records"] / floor["wall"]
            self.add(section, "e2e / floor, records/s (wall)", f"{rps / floor_rps:.2f}")
        if "target" in kinds:
            el_seconds = kinds["target"].ended - result.started_at
            self.add(section, "EL only: s to target exit", f"{el_seconds:.1f}")
            self.add(section, "EL only: records/s (tap -> target)", f"{total / el_seconds:,.0f}")
        if result.timed_out:
            self.add(
                section,
                "meltano run",
                f"killed after {self.e2e_timeout:.0f} s",
                "finishes",
                "MISS",
            )
            self.notes.add("backfill dbt build still running when killed: " + "; ".join(stuck))
            self.e2e_killed = True
        for kind in ("tap", "target", "dbt", "meltano"):
            if kind in kinds:
                k = kinds[kind]
                self.add(section, f"{kind}: s alive / CPU s", f"{k.seconds:.1f} / {k.cpu:.1f}")
        self.add(section, "simulator CPU s", f"{sim_cpu:.1f}")
        if self.last_server_cpu is not None:
            self.add(section, "PostgreSQL server CPU s", f"{self.last_server_cpu:.1f}")
        raw = pipeline.row_counts(pg_env, "tiktok_ads")
        marts = pipeline.row_counts(pg_env, "dra_tiktok_ads")
        self.add(
            section,
            "raw ad_group_performance rows",
            f"{raw.get('ad_group_performance', 0):,}",
            f"= {self.size.ad_group_rows:,}",
            _ok(raw.get("ad_group_performance") == self.size.ad_group_rows),
        )
        self.add(
            section, "mart ad_group_performance rows", f"{marts.get('ad_group_performance', 0):,}"
        )
        dbt = pipeline.dbt_results(work)
        self.results["phases"]["e2e"] = {
            "wall": result.wall,
            "records": records,
            "sim_cpu": sim_cpu,
            "kinds": {k: asdict(v) for k, v in kinds.items()},
            "dbt": dbt,
            "raw": raw,
            "marts": marts,
        }

    def incremental_phases(self, state: dict[str, Any] | None) -> None:
        if "incremental" in self.skip:
            return
        size = self.size
        next_day = END_DATE + timedelta(days=1)
        start = expected.incremental_start(size.first_day, END_DATE, LOOKBACK_DAYS)
        minimum = self.check_minimum(start, next_day, next_day)
        log = self.out_dir / "simulator-daily.log"
        with SimulatorProcess(size, days=size.days + 1, end_date=next_day, log_path=log) as sim:
            ids = sim.advertiser_ids()
            self.log(f"incremental: next day ({next_day}), data one day longer, same first day")
            if state is None:
                state = backfill_state(ids)
                self.notes.add(
                    "daily tap run: no backfill tap phase ran, so it starts from the state a "
                    f"completed backfill leaves (bookmark {END_DATE} per advertiser and stream)"
                )
            if state is not None:
                tap = self.run_tap(
                    "daily", sim, self.tap_config(sim, ids, next_day, UNTHROTTLED), state
                )
                section = f"daily run after backfill (tap, {start}..{next_day})"
                self.compare_requests(section, tap.requests, minimum)
                self.add(section, "records", f"{tap.records:,}")
                self.results["phases"]["daily_tap"] = {
                    "requests": tap.requests,
                    "minimum": minimum,
                    "records": tap.records,
                    "wall": tap.run.wall,
                }
            if "e2e" in self.skip:
                return
            e2e = self.results.get("e2e_env")
            if not e2e:
                return
            if self.e2e_killed:
                self.notes.add(
                    "daily meltano run skipped: the backfill's dbt build never finished, so its "
                    "watermarks did not advance and a daily build would redo the full batch"
                )
                return
            work = self.out_dir / "e2e"
            pg_env = e2e["pg"]
            settings = self.e2e_settings(sim, ids, next_day, e2e["data_source_id"])
            result, records, _, stuck = self.meltano("daily", sim, pg_env, settings, work)
            if stuck or result.timed_out:
                self.add(
                    "dbt: full build vs daily incremental",
                    "daily meltano run",
                    f"killed after {self.e2e_timeout:.0f} s",
                    "",
                    "MISS",
                )
                self.notes.add("daily run still running: " + "; ".join(stuck or ["?"]))
            kinds = result.by_kind()
            dbt = pipeline.dbt_results(work)
            full = self.results["phases"]["e2e"]
            full_dbt = full["kinds"].get("dbt", {})
            full_dbt_s = max(0.0, full_dbt.get("ended", 0.0) - full_dbt.get("started", 0.0))
            daily_dbt_s = kinds["dbt"].seconds if "dbt" in kinds else 0.0
            section = "dbt: full build vs daily incremental"
            self.add(
                section,
                "daily meltano run: records / wall s",
                f"{sum(records.values()):,} / {result.wall:.1f}",
            )
            self.add(section, "dbt build s, full (backfill)", f"{full_dbt_s:.1f}")
            self.add(section, "dbt build s, daily", f"{daily_dbt_s:.1f}")
            if full_dbt_s:
                share = daily_dbt_s / full_dbt_s
                self.add(
                    section, "daily / full", f"{share:.2f}", "small fraction", _ok(share < 0.5)
                )
            for name in ("campaign_performance", "ad_group_performance"):
                rows_full = _model_rows(full["dbt"], name)
                rows_daily = _model_rows(dbt, name)
                self.add(
                    section, f"{name} rows written full / daily", f"{rows_full} / {rows_daily}"
                )
            self.results["phases"]["daily_e2e"] = {
                "wall": result.wall,
                "records": records,
                "dbt": dbt,
                "kinds": {k: asdict(v) for k, v in kinds.items()},
            }

    def memory_baseline(self, server_env: dict[str, str]) -> None:
        small = SIZES["small"]
        self.log("memory: the same tap and pipeline at the small size, for peak RSS growth")
        inner = Benchmark(
            small, {"ratelimit", "floor", "incremental", "memory"}, self.out_dir / "memory-small"
        )
        inner.started = self.started
        inner.pg_options, inner.e2e_timeout = self.pg_options, self.e2e_timeout
        inner.batch = self.batch
        inner.backfill_phases(server_env)
        self.results["small_baseline"] = inner.results["phases"]

    def memory_rows(self) -> None:
        section = "peak RSS (MB)"
        phases = self.results["phases"]
        large: dict[str, int] = {}
        if "throughput" in phases:
            large["tap (alone)"] = phases["throughput"]["tap_rss"]
        if "e2e" in phases:
            for kind, stats in phases["e2e"]["kinds"].items():
                if kind in ("tap", "target", "dbt", "meltano"):
                    large[kind] = stats["peak_rss"]
        small: dict[str, int] = {}
        base = self.results.get("small_baseline") or {}
        if "throughput" in base:
            small["tap (alone)"] = base["throughput"]["tap_rss"]
        if "e2e" in base:
            for kind, stats in base["e2e"]["kinds"].items():
                small[kind] = stats["peak_rss"]
        for kind, rss in large.items():
            verdict = _ok(rss < TARGETS["rss_mb"] * MB)
            target = f"< {TARGETS['rss_mb']}"
            value = f"{rss / MB:.0f}"
            if kind in small:
                growth = rss / small[kind] - 1
                value = f"{small[kind] / MB:.0f} -> {rss / MB:.0f} ({growth:+.0%})"
                target += ", growth <= 20%"
                verdict = _ok(rss < TARGETS["rss_mb"] * MB and growth <= TARGETS["rss_growth"])
            self.add(section, kind, value, target, verdict)

    # output

    def table(self) -> str:
        width = [
            max(len(r.metric) for r in self.rows),
            max(len(r.value) for r in self.rows),
            max(len(r.target) for r in self.rows),
        ]
        lines = []
        section = None
        for row in self.rows:
            if row.section != section:
                section = row.section
                lines.append(f"\n{section}")
            lines.append(
                f"  {row.metric:<{width[0]}}  {row.value:>{width[1]}}  "
                f"{row.target:<{width[2]}}  {row.verdict}".rstrip()
            )
        return "\n".join(lines)


_LOG_TIME = re.compile(rb"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) ", re.MULTILINE)


def extraction_seconds(log_path: Path) -> float | None:
    """From the tap's first 'Beginning sync' log line to its last log line (no start-up)."""
    text = log_path.read_bytes()
    first = text.find(b"Beginning sync")
    if first < 0:
        return None
    begin = text.rfind(b"\n", 0, first) + 1
    starts = _LOG_TIME.match(text, begin)
    stamps = _LOG_TIME.findall(text)
    if not starts or not stamps:
        return None
    fmt = "%Y-%m-%d %H:%M:%S,%f"
    t0 = datetime.strptime(starts.group(1).decode(), fmt)
    t1 = datetime.strptime(stamps[-1].decode(), fmt)
    return (t1 - t0).total_seconds()


def backfill_state(advertiser_ids: list[str]) -> dict[str, Any]:
    """The state a completed backfill through END_DATE leaves (report streams' bookmarks)."""
    return {
        "bookmarks": {
            stream: {
                "partitions": [
                    {
                        "context": {"advertiser_id": advertiser_id},
                        "replication_key": "stat_date",
                        "replication_key_value": END_DATE.isoformat(),
                    }
                    for advertiser_id in advertiser_ids
                ]
            }
            for stream in ("campaign_performance", "ad_group_performance")
        }
    }


def _model_rows(results: list[dict[str, Any]], name: str) -> str:
    for r in results:
        if r["node"].startswith("model.") and r["node"].endswith(f".{name}"):
            return "?" if r["rows"] is None else f"{r['rows']:,}"
    return "-"


def _ok(condition: bool) -> str:
    return "ok" if condition else "MISS"


def machine() -> str:
    cpu = "?"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        match = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text(encoding="utf-8"))
        cpu = match.group(1).strip() if match else cpu
    mem = "?"
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        match = re.search(r"MemTotal:\s+(\d+)", meminfo.read_text(encoding="utf-8"))
        mem = f"{int(match.group(1)) / 1024 / 1024:.1f} GiB" if match else mem
    return f"{os.cpu_count()} CPU(s), {cpu}, {mem} RAM, Python {platform.python_version()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument(
        "--skip",
        nargs="*",
        default=[],
        choices=PHASES,
        metavar="PHASE",
        help=f"phases to skip: {', '.join(PHASES)}",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=REPO_ROOT / ".local" / "bench",
        help="work folder for logs and results.json (default .local/bench)",
    )
    parser.add_argument(
        "--e2e-timeout",
        type=float,
        default=900.0,
        help="seconds after which a meltano run is killed and reported (default 900)",
    )
    parser.add_argument(
        "--pg-options",
        default="",
        help="PGOPTIONS for the meltano runs, e.g. '-c enable_mergejoin=off' to try a fix",
    )
    parser.add_argument(
        "--records",
        action="store_true",
        help="end-to-end runs send RECORD messages instead of the project's BATCH messages",
    )
    fleet = parser.add_argument_group("the fleet benchmark (benchmarks.fleet)")
    fleet.add_argument(
        "--fleet",
        action="store_true",
        help="many data sources on one app's QPS budget, through the platform's runner",
    )
    fleet.add_argument("--data-sources", type=int, default=50, help="fleet size (default 50)")
    fleet.add_argument("--app-qps", type=int, default=10, help="the app's QPS limit (default 10)")
    fleet.add_argument(
        "--max-parallel", type=int, default=4, help="runner's --max-parallel (default 4)"
    )
    args = parser.parse_args(argv)
    if args.fleet:
        from benchmarks import fleet as fleet_benchmark

        return fleet_benchmark.main(args)
    size = SIZES[args.size]
    bench = Benchmark(size, set(args.skip), args.out / size.name)
    bench.e2e_timeout = args.e2e_timeout
    bench.pg_options = args.pg_options
    bench.batch = not args.records
    if args.records:
        bench.notes.add("end-to-end runs sent RECORD messages (--records; batch_config removed)")
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    header = [
        f"tap-tiktok-ads benchmark, size {size.name}: {size.describe()} "
        f"({size.ad_group_rows:,} ad-group rows, {size.records:,} records)",
        f"{now}; {machine()}",
        f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
    ]
    for line in header:
        say(line)
    try:
        bench.run()
    except (RuntimeError, OSError) as error:
        say(f"\nbenchmark failed: {error}")
        if bench.rows:
            say(bench.table())
        return 1
    table = bench.table() + "".join(f"\nnote: {n}" for n in sorted(bench.notes))
    footer = (
        f"\ntotal {bench.results['total_seconds']:.0f} s; load average at end: "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    say(table + footer)
    bench.results["header"] = header
    (bench.out_dir / "results.json").write_text(
        json.dumps(bench.results, indent=1, default=str), encoding="utf-8"
    )
    (bench.out_dir / "table.txt").write_text(
        "\n".join(header) + "\n" + table + footer + "\n", encoding="utf-8"
    )
    say(f"results: {bench.out_dir / 'results.json'}")
    return 1 if any(r.verdict == "MISS" for r in bench.rows) else 0
