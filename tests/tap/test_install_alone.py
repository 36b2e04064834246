"""`pip install` of the tap alone: a fresh venv with only the repository root installed (no
workspace members, no dev group) has no platform dependency and syncs from the simulator."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tap_tiktok_ads.streams import default_stream_names
from tiktok_sim import SimConfig, Simulator
from tiktok_sim.dataset import LEVEL_ADGROUP, LEVEL_CAMPAIGN

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]
#: What the platform bridge or a web app would bring, and our other distributions.
NOT_FOR_THE_TAP = (
    "psycopg",
    "psycopg2",
    "cryptography",
    "flask",
    "starlette",
    "fastapi",
    "werkzeug",
    "uvicorn",
    "dra_tiktok_ads",
    "tiktok_sim",
)
# Two days back is a finished day in every time zone, so "today" cannot cut the range.
END = date.today() - timedelta(days=2)
DAYS = 5


@pytest.fixture(scope="module")
def tap_alone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new venv holding the tap as `pip install <repository>` installs it; its bin folder."""
    uv = shutil.which("uv")
    if uv is None:
        pytest.fail("uv is not on PATH: run `make install` (scripts/bootstrap.sh installs it)")
    venv = tmp_path_factory.mktemp("tap-alone") / "venv"
    env = {**clean_env(), "UV_COMPILE_BYTECODE": "0"}  # bytecode would cost more than it saves
    subprocess.run(
        [uv, "venv", "--quiet", "--python", sys.executable, str(venv)],
        env=env,
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [uv, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), str(REPO_ROOT)],
        env=env,
        check=True,
        capture_output=True,
    )
    return venv / "bin"


def clean_env() -> dict[str, str]:
    """This process's environment without what would make the dev venv visible."""
    return {
        key: value
        for key, value in os.environ.items()
        if key not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"}
    }


def run(bin_dir: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(bin_dir / args[0]), *args[1:]],
        cwd=cwd,  # not the repository: its source tree must not be what gets imported
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_tap_comes_without_platform_or_web_dependencies(tap_alone: Path, tmp_path: Path):
    probe = (
        "import importlib.util, json, tap_tiktok_ads\n"
        f"names = {list(NOT_FOR_THE_TAP)!r}\n"
        "print(json.dumps({'tap': tap_tiktok_ads.__file__,"
        " 'found': [n for n in names if importlib.util.find_spec(n)]}))"
    )
    result = run(tap_alone, "python", "-c", probe, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["found"] == []
    # The installed copy, not the repository's source tree.
    assert Path(found["tap"]).is_relative_to(tap_alone.parent)


def test_about_runs_from_the_installed_tap(tap_alone: Path, tmp_path: Path):
    result = run(tap_alone, "tap-tiktok-ads", "--about", "--format=json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    about = json.loads(result.stdout)
    assert about["name"] == "tap-tiktok-ads"
    assert about["settings"]["properties"]["lookback_days"]["default"] == 7
    assert "batch" in about["capabilities"]


def test_a_sync_from_the_installed_tap_matches_the_simulator(tap_alone: Path, tmp_path: Path):
    config = SimConfig(
        seed=11,
        advertisers=1,
        campaigns=2,
        adgroups=4,
        days=DAYS,
        end_date=END,
        app_qps_limit=None,  # this test runs the tap at 100 requests/s
    )
    with Simulator(config) as sim:
        (advertiser_id,) = sim.dataset.advertiser_ids
        start = END - timedelta(days=DAYS - 1)
        tap_config = {
            "access_token": sim.config.access_token,
            "api_url": sim.api_url,
            "advertiser_ids": [advertiser_id],
            "start_date": start.isoformat(),
            "end_date": END.isoformat(),
            "max_requests_per_second": 100,
        }
        config_file = tmp_path / "config.json"
        config_file.write_text(json.dumps(tap_config), encoding="utf-8")
        result = run(tap_alone, "tap-tiktok-ads", "--config", str(config_file), cwd=tmp_path)
        assert result.returncode == 0, result.stderr[-2000:]
        data = sim.dataset
        campaign_rows = data.report_row_count(LEVEL_CAMPAIGN, advertiser_id, start, END)
        adgroup_rows = data.report_row_count(LEVEL_ADGROUP, advertiser_id, start, END)
        campaign_spend = data.report_totals(LEVEL_CAMPAIGN, advertiser_id, start, END)["spend"]
        campaigns = len(data.list_campaigns(advertiser_id, include_deleted=True))
        adgroups = len(data.list_adgroups(advertiser_id, include_deleted=True))

    records: dict[str, list[dict[str, Any]]] = defaultdict(list)
    states = []
    for line in result.stdout.splitlines():
        message = json.loads(line)
        if message["type"] == "RECORD":
            records[message["stream"]].append(message["record"])
        elif message["type"] == "STATE":
            states.append(message["value"])
    assert sorted(records) == sorted(default_stream_names())
    assert [r["advertiser_id"] for r in records["advertiser_info"]] == [advertiser_id]
    assert len(records["campaigns"]) == campaigns
    assert len(records["ad_groups"]) == adgroups
    assert len(records["campaign_performance"]) == campaign_rows > 0
    assert len(records["ad_group_performance"]) == adgroup_rows > 0
    emitted_spend = sum(Decimal(str(r["spend"])) for r in records["campaign_performance"])
    assert emitted_spend == campaign_spend
    bookmark = states[-1]["bookmarks"]["campaign_performance"]["partitions"][0]
    assert bookmark["replication_key_value"] == END.isoformat()


def test_a_shared_budget_without_its_extra_is_one_clear_line(tap_alone: Path, tmp_path: Path):
    config_file = tmp_path / "config.json"
    config_file.write_text(
        json.dumps(
            {
                "access_token": "token",
                "advertiser_ids": ["7001"],
                "start_date": "2026-01-01",
                "shared_budget": "postgresql://tap:budget-pw@db.invalid/platform",
            }
        ),
        encoding="utf-8",
    )
    result = run(tap_alone, "tap-tiktok-ads", "--config", str(config_file), cwd=tmp_path)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if "shared_budget" in line]
    assert len(lines) == 1, result.stderr[-2000:]
    assert "psycopg is not installed" in lines[0]
    assert "shared-budget" in lines[0]
    assert "budget-pw" not in result.stderr
