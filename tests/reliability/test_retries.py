"""Retries exhausted: the tap gives up loudly, with the request_id, after bounded tries.

In-process, so the backoff waits (1 s doubling to 60 s over 8 tries, about 1.5-2 min) can be
made instant; everything else is the real tap against the real simulator over HTTP.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tap_tiktok_ads import tap as tap_module
from tap_tiktok_ads.client import TikTokStream
from tests.reliability.harness import (
    ACCESS_TOKEN,
    END_DATE,
    PAGE_SIZE,
    REPORT,
    START_DATE,
    sim_config,
    wait_for,
)
from tiktok_sim import Simulator
from tiktok_sim.dataset import LEVEL_ADGROUP, LEVEL_CAMPAIGN

LEVELS = {"campaign_performance": LEVEL_CAMPAIGN, "ad_group_performance": LEVEL_ADGROUP}
ID_FIELDS = {"campaign_performance": "campaign_id", "ad_group_performance": "adgroup_id"}


@pytest.fixture
def instant_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_wait(self: TikTokStream) -> Iterator[float]:
        while True:
            yield 0.0

    monkeypatch.setattr(TikTokStream, "backoff_wait_generator", no_wait)


def test_exhausted_retries_fail_loudly_with_request_id_and_state_only_for_whole_windows(
    instant_backoff: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    with Simulator(sim_config(latency_ms=20)) as sim:
        config = tmp_path / "config.json"
        config.write_text(
            json.dumps(
                {
                    "access_token": ACCESS_TOKEN,
                    "api_url": sim.api_url,
                    "advertiser_ids": sim.dataset.advertiser_ids,
                    "start_date": START_DATE.isoformat(),
                    "end_date": END_DATE.isoformat(),
                    "page_size": PAGE_SIZE,
                }
            )
        )

        second_advertiser = sim.dataset.advertiser_ids[1]

        def second_advertiser_started() -> bool:
            return any(
                r.params.get("advertiser_id") == second_advertiser
                for r in sim.stats.requests(REPORT)
            )

        def arm_mid_run() -> None:
            # The tap fetches one advertiser's report pages concurrently, and starts the next
            # advertiser only after the first one's last window was emitted and its STATE
            # written; so the next advertiser's first request is when to start failing (a
            # count of pages would break whenever the window or page sizes change).
            wait_for(second_advertiser_started, timeout=60)
            sim.faults.api_error(code=50002, n=100_000, endpoint=REPORT)

        armer = threading.Thread(target=arm_mid_run, daemon=True)
        armer.start()
        monkeypatch.setattr(sys, "argv", ["tap-tiktok-ads", "--config", str(config)])
        with pytest.raises(SystemExit) as exit_info:
            tap_module.main()
        armer.join(timeout=5)
        assert exit_info.value.code == 1
        out, err = capfd.readouterr()

        # Bounded: the failing request was tried 8 times, then the run stopped.
        failed = sim.stats.requests(REPORT)
        by_params: dict[str, int] = {}
        for record in failed:
            if record.outcome == "50002":
                key = json.dumps(record.params, sort_keys=True)
                by_params[key] = by_params.get(key, 0) + 1
        assert max(by_params.values()) == 8
        # Loud: one line with the code and the request_id; no traceback; no secret.
        lines = [r.getMessage() for r in caplog.records if "Sync failed" in r.getMessage()]
        assert len(lines) == 1, caplog.text[-3000:]
        assert "50002" in lines[0]
        assert "request_id sim" in lines[0]
        assert "\n" not in lines[0]
        assert not [r for r in caplog.records if r.exc_info]
        assert "Traceback" not in err + caplog.text
        assert ACCESS_TOKEN not in out + err + caplog.text

        # The last STATE promises only windows whose every row was emitted before it.
        messages = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        states = [i for i, m in enumerate(messages) if m["type"] == "STATE"]
        assert states, "no STATE before the failure"
        last = states[-1]
        bookmarks = messages[last]["value"].get("bookmarks", {})
        checked = 0
        for stream, level in LEVELS.items():
            for partition in bookmarks.get(stream, {}).get("partitions", []):
                mark = partition.get("replication_key_value")
                if not mark:
                    continue
                advertiser_id = partition["context"]["advertiser_id"]
                emitted = {
                    (m["record"][ID_FIELDS[stream]], m["record"]["stat_date"])
                    for m in messages[:last]
                    if m["type"] == "RECORD"
                    and m["stream"] == stream
                    and m["record"]["advertiser_id"] == advertiser_id
                    and m["record"]["stat_date"] <= mark
                }
                expected = sim.dataset.report_row_count(
                    level, advertiser_id, START_DATE, END_DATE.fromisoformat(mark[:10])
                )
                assert len(emitted) == expected, (stream, advertiser_id, mark)
                checked += 1
        assert checked >= 1
