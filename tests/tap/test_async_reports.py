"""Async report tasks (async_reports) over real HTTP against the simulator: the same records and
the same bookmarks as the synchronous path, chosen automatically only for long backfills."""

from __future__ import annotations

import time
from datetime import date, timedelta

import pytest
from singer_sdk.exceptions import FatalAPIError

from tap_tiktok_ads.async_reports import async_request_estimate, use_async
from tap_tiktok_ads.windows import date_windows
from tests.tap.fake_api import bookmarks, run_tap
from tests.tap.simulated import FAST, fast_simulator, tap_config
from tests.tap.simulated import SIM_TODAY as END

pytestmark = pytest.mark.usefixtures("pinned_today")

START = END - timedelta(days=369)  # 370 days: 13 windows, two tasks (12 windows and 1)
REPORT = "/report/integrated/get/"
CREATE, CHECK, DOWNLOAD = "/report/task/create/", "/report/task/check/", "/report/task/download/"
STREAMS = ["campaign_performance", "ad_group_performance"]


@pytest.fixture(scope="module")
def sim():
    with fast_simulator(
        seed=11,
        advertisers=2,
        campaigns=4,  # campaign 3 is deleted
        adgroups=5,
        days=370,
        async_qps_limit=None,  # pacing has its own test below
        async_task_seconds=0.1,
    ) as simulator:
        yield simulator


def config_for(sim, **overrides):
    return (
        tap_config(
            sim,
            START,
            advertiser_ids=sim.dataset.advertiser_ids,
            async_requests_per_second=FAST,
        )
        | overrides
    )


def keyed(records, stream):
    id_field = "campaign_id" if stream == "campaign_performance" else "adgroup_id"
    return {(r["advertiser_id"], r[id_field], r["stat_date"]): r for r in records[stream]}


def bookmark_trail(result, stream):
    """Every bookmark the run's STATE messages carried for ``stream``, in order."""
    trail = []
    for state in result.states:
        marks = bookmarks(state, stream)
        if not trail or trail[-1] != marks:
            trail.append(marks)
    return trail


def test_async_tasks_give_the_same_records_and_state_as_synchronous_reports(sim):
    sim.stats.reset()
    synchronous = run_tap(config_for(sim), streams=STREAMS)
    assert sim.stats.count(endpoint=CREATE) == 0

    sim.stats.reset()
    tasks = run_tap(config_for(sim, async_reports="always"), streams=STREAMS)
    assert sim.stats.count(endpoint=REPORT) == 0
    # Two tasks (12 + 1 windows) per advertiser and stream, each downloaded once.
    assert sim.stats.count(endpoint=CREATE, outcome=0) == 2 * 2 * 2
    assert sim.stats.count(endpoint=DOWNLOAD, outcome=0) == 2 * 2 * 2

    for stream in STREAMS:
        expected = keyed(synchronous.records, stream)
        got = keyed(tasks.records, stream)
        assert len(got) == len(tasks.records[stream]), "no row emitted twice"
        assert got == expected
        assert any(r["reach"] is None for r in got.values()), "the '-' values came through"
        assert bookmark_trail(tasks, stream) == bookmark_trail(synchronous, stream)
        assert bookmarks(tasks.final_state, stream) == dict.fromkeys(
            sim.dataset.advertiser_ids, END.isoformat()
        )
    # Deleted, TopView and Promote campaigns are in the tasks' rows too.
    advertiser_id = sim.dataset.advertiser_ids[0]
    every = {c.campaign_id for c in sim.dataset.list_campaigns(advertiser_id, include_deleted=True)}
    emitted = {
        r["campaign_id"]
        for r in tasks.records["campaign_performance"]
        if r["advertiser_id"] == advertiser_id
    }
    assert emitted == every


def test_auto_takes_tasks_for_a_long_backfill_and_the_api_for_the_daily_run(sim):
    sim.stats.reset()
    advertiser_id = sim.dataset.advertiser_ids[0]
    config = config_for(
        sim,
        advertiser_ids=[advertiser_id],
        async_reports="auto",
        start_date=(END - timedelta(days=359)).isoformat(),  # 12 windows: one task
    )
    backfill = run_tap(config, streams=["campaign_performance"])
    assert sim.stats.count(endpoint=REPORT) == 0
    assert sim.stats.count(endpoint=CREATE) == 1

    sim.stats.reset()
    daily = run_tap(config, state=backfill.final_state, streams=["campaign_performance"])
    assert sim.stats.count(endpoint=CREATE) == 0
    assert sim.stats.count(endpoint=REPORT) == 1  # the lookback window, one page
    assert bookmarks(daily.final_state, "campaign_performance") == {advertiser_id: "2026-11-20"}


def test_auto_needs_more_windows_than_the_task_path_costs():
    day = date(2026, 1, 1)
    short = date_windows(day, day + timedelta(days=329))  # 11 windows: 11 requests at least
    long = date_windows(day, day + timedelta(days=359))  # 12 windows, one task
    assert async_request_estimate(len(short)) >= len(short)
    assert not use_async("auto", short)
    assert use_async("auto", long)
    assert not use_async("off", long)
    assert use_async("always", short[:1])


def test_task_calls_are_paced_under_the_async_limit(sim):
    # The simulator refuses a fourth call within any 10 s at 0.3/s; at 2/s, 20 in 10 s. The
    # tap paces report/task/* calls below async_requests_per_second, so none is refused.
    sim.config.set_switches({"async_qps_limit": 2.0})
    try:
        sim.stats.reset()
        advertiser_id = sim.dataset.advertiser_ids[0]
        config = config_for(
            sim,
            advertiser_ids=[advertiser_id],
            start_date=(END - timedelta(days=59)).isoformat(),
            async_reports="always",
            async_requests_per_second=2,
        )
        started = time.monotonic()
        result = run_tap(config, streams=["campaign_performance"])
        elapsed = time.monotonic() - started
        calls = [r for r in sim.stats.requests() if r.endpoint.startswith("/report/task/")]
        assert sim.stats.count(outcome=40100) == 0
        assert len(calls) >= 3  # create, at least one check, download
        # 1.82 calls/s at most (10% below 2/s): the first goes at once.
        assert elapsed >= (len(calls) - 1) / 2.0
        assert len(result.records["campaign_performance"]) == sim.dataset.report_row_count(
            "AUCTION_CAMPAIGN", advertiser_id, END - timedelta(days=59), END
        )
    finally:
        sim.config.set_switches({"async_qps_limit": None})


@pytest.fixture
def async_refused(sim):
    sim.config.set_switches({"async_reports_allowed": False})
    yield
    sim.config.set_switches({"async_reports_allowed": True})


def test_auto_reads_synchronously_when_tiktok_refuses_the_app_async_reports(
    sim, async_refused, caplog
):
    sim.stats.reset()
    advertiser_ids = sim.dataset.advertiser_ids
    start = END - timedelta(days=359)  # 12 windows: auto takes a task
    config = config_for(sim, async_reports="auto", start_date=start.isoformat())
    result = run_tap(config, streams=["campaign_performance"])
    # One refused create for the stream; the other advertiser does not ask again.
    assert sim.stats.count(endpoint=CREATE) == 1
    assert sim.stats.count(endpoint=CREATE, outcome=40001) == 1
    assert sim.stats.count(endpoint=REPORT) == 2 * 12
    emitted = result.records["campaign_performance"]
    for advertiser_id in advertiser_ids:
        assert len([r for r in emitted if r["advertiser_id"] == advertiser_id]) == (
            sim.dataset.report_row_count("AUCTION_CAMPAIGN", advertiser_id, start, END)
        )
    assert bookmarks(result.final_state, "campaign_performance") == dict.fromkeys(
        advertiser_ids, END.isoformat()
    )
    assert "TikTok refused async report tasks" in caplog.text


def test_always_stops_in_one_line_when_tiktok_refuses_the_app_async_reports(sim, async_refused):
    with pytest.raises(FatalAPIError, match="set async_reports to auto or off") as failure:
        run_tap(config_for(sim, async_reports="always"), streams=["campaign_performance"])
    assert "\n" not in str(failure.value)
    assert "40001" in str(failure.value)


def test_a_failed_task_stops_the_sync_naming_it_and_keeps_earlier_state(sim):
    """TikTok answering FAILED for a task (fault fail_async_task, over HTTP): the sync stops in
    one line naming the task, level, advertiser and window, and downloads nothing."""
    first, second = sim.dataset.advertiser_ids[:2]
    start = END - timedelta(days=59)
    sim.faults.fail_async_task(message="disk full")
    try:
        config = config_for(
            sim,
            advertiser_ids=[first, second],
            start_date=start.isoformat(),
            async_reports="always",
        )
        with pytest.raises(FatalAPIError) as failure:
            run_tap(config, streams=["campaign_performance"])
    finally:
        sim.faults.clear()
    message = str(failure.value)
    assert "\n" not in message
    assert "ended FAILED: disk full; run the sync again" in message
    assert f"advertiser {first}" in message
    assert "AUCTION_CAMPAIGN" in message
    assert f"{start.isoformat()}.." in message
    assert sim.stats.count(endpoint=DOWNLOAD) == 0


def test_task_calls_are_retried_like_any_other(sim):
    sim.stats.reset()
    advertiser_id = sim.dataset.advertiser_ids[0]
    start = END - timedelta(days=59)
    sim.faults.rate_limit(n=1, code=40100, endpoint=CREATE)
    sim.faults.api_error(code=50002, n=1, endpoint=CHECK)
    sim.faults.malformed(n=1, kind="html", endpoint=DOWNLOAD)
    sim.faults.malformed(n=1, kind="disconnect", endpoint=DOWNLOAD)
    try:
        config = config_for(
            sim,
            advertiser_ids=[advertiser_id],
            start_date=start.isoformat(),
            async_reports="always",
        )
        result = run_tap(config, streams=["campaign_performance"])
    finally:
        sim.faults.clear()
    assert sim.stats.count(endpoint=CREATE, outcome=0) == 1
    assert sim.stats.count(endpoint=DOWNLOAD, outcome=0) == 1
    assert len(result.records["campaign_performance"]) == sim.dataset.report_row_count(
        "AUCTION_CAMPAIGN", advertiser_id, start, END
    )
