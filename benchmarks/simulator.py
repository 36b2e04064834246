"""The TikTok API simulator as a separate process (its CPU is not in the tap's process)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import Any

import psutil
import requests

from benchmarks.sizes import SEED, Size
from devstack.postgres import free_port

VENV_BIN = Path(sys.executable).parent
ACCESS_TOKEN = "sim-access-token"
# until the tap handles TopView/Promote, campaign/get's STATUS_DELETE, truncation and 40067
# (issue 14): the benchmark's request minimum assumes the tap on main.
UNTIL_TAP14_FLAGS = (
    "--no-hide-special-campaigns",
    "--no-documented-filters-only",
    "--sync-report-ad-limit=off",
    "--query-size-limit=off",
)


class SimulatorProcess:
    def __init__(self, size: Size, *, days: int, end_date: date, log_path: Path) -> None:
        self.size = size
        self.days = days
        self.end_date = end_date
        self.log_path = log_path
        self.process: subprocess.Popen[str] | None = None
        self.base_url = ""
        self.session = requests.Session()

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/open_api/v1.3"

    def __enter__(self) -> SimulatorProcess:
        port = free_port()
        size = self.size
        command = [
            str(VENV_BIN / "tiktok-sim"),
            f"--port={port}",
            f"--seed={SEED}",
            f"--advertisers={size.advertisers}",
            f"--campaigns={size.campaigns}",
            f"--adgroups={size.adgroups}",
            f"--days={self.days}",
            f"--end-date={self.end_date.isoformat()}",
            *UNTIL_TAP14_FLAGS,
        ]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("w", encoding="utf-8") as log:
            self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        match = re.search(r"(https?://[^/\s]+)", line)
        if not match:
            self.__exit__(None, None, None)
            msg = f"the simulator did not start; see {self.log_path}"
            raise RuntimeError(msg)
        self.base_url = match.group(1)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None

    def _admin(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        response = self.session.request(
            method, f"{self.base_url}/_sim/{path}", json=body, timeout=60
        )
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def reset(self, app_qps_limit: int | None = None) -> None:
        """Clear stats and faults; the per-app QPS limit is on only for runs paced under it
        (the unthrottled phases measure throughput on purpose)."""
        self._admin("POST", "reset", {})
        self._admin("POST", "switches", {"app_qps_limit": app_qps_limit})

    def set_latency(self, ms: int) -> None:
        self._admin("POST", "faults", {"fault": "latency", "ms": ms})

    def stats(self, *, log: bool = False) -> dict[str, Any]:
        return self._admin("GET", "stats?log=1" if log else "stats")

    def advertiser_ids(self) -> list[str]:
        data = self._admin("GET", "dataset")
        return [str(a["advertiser_id"]) for a in data["advertisers"]]

    def cpu_seconds(self) -> float:
        assert self.process is not None
        times = psutil.Process(self.process.pid).cpu_times()
        return float(times.user + times.system)

    def peak_rss(self) -> int:
        """High-water mark of the simulator's resident memory (VmHWM)."""
        assert self.process is not None
        status = Path(f"/proc/{self.process.pid}/status").read_text(encoding="utf-8")
        match = re.search(r"VmHWM:\s+(\d+) kB", status)
        return int(match.group(1)) * 1024 if match else 0


def requests_by_stream(stats: dict[str, Any]) -> dict[str, int]:
    """Requests per tap stream, from the simulator's request log."""
    levels = {"AUCTION_CAMPAIGN": "campaign_performance", "AUCTION_ADGROUP": "ad_group_performance"}
    endpoints = {
        "/advertiser/info/": "advertiser_info",
        "/campaign/get/": "campaigns",
        "/adgroup/get/": "ad_groups",
        "/oauth2/advertiser/get/": "discovery",
    }
    result: dict[str, int] = {}
    for entry in stats.get("log") or []:
        endpoint = entry["endpoint"]
        if endpoint == "/report/integrated/get/":
            stream = levels.get(entry["params"].get("data_level"), "report_other")
        else:
            stream = endpoints.get(endpoint, endpoint)
        result[stream] = result.get(stream, 0) + 1
    if len(stats.get("log") or []) != stats.get("total"):
        result["unlogged"] = int(stats.get("total", 0)) - len(stats.get("log") or [])
    return result


def report_pages(stats: dict[str, Any]) -> list[tuple[str, dict[str, str]]]:
    """(endpoint, query params) of every successful API request, in order: for the floor."""
    return [
        (entry["endpoint"], entry["params"])
        for entry in stats.get("log") or []
        if entry.get("outcome") == "0"
    ]


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))
