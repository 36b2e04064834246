"""The request budget shared through PostgreSQL (``shared_budget``), on a real database."""

from __future__ import annotations

import itertools
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import psycopg
import pytest

from tap_tiktok_ads.shared_budget import TABLE, SharedBudgetError, SharedRateBudget

RATE = 20.0  # slots 50 ms apart
INTERVAL = 1 / RATE


def uri_of(env: dict[str, str]) -> str:
    password = quote(env["PGPASSWORD"], safe="")
    return (
        f"postgresql://{env['PGUSER']}:{password}@{env['PGHOST']}:{env['PGPORT']}/"
        f"{env['PGDATABASE']}"
    )


@pytest.fixture
def uri(fresh_database: dict[str, str]) -> str:
    return uri_of(fresh_database)


def test_slots_are_one_interval_apart_across_connections_and_threads(uri: str):
    budgets = [SharedRateBudget(uri, "app-1", RATE) for _ in range(4)]
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            # Two threads per connection: the connection's lock and the row's lock both count.
            slots = list(pool.map(lambda i: budgets[i % 4].reserve_slot()[0], range(80)))
    finally:
        for budget in budgets:
            budget.close()
    slots.sort()
    gaps = [later - earlier for earlier, later in itertools.pairwise(slots)]
    assert len(set(slots)) == 80
    assert min(gaps) >= INTERVAL - 1e-6
    # Handed out back to back: the 80 slots cover 80 intervals, not more.
    assert slots[-1] - slots[0] == pytest.approx(79 * INTERVAL, abs=0.05)


def test_each_key_has_a_budget_of_its_own(uri: str):
    # One request a second: the second slot is far enough ahead to see on a busy machine.
    first, other = SharedRateBudget(uri, "app-1", 1.0), SharedRateBudget(uri, "app-2", 1.0)
    try:
        assert first.reserve() == 0
        assert first.reserve() > 0.5  # app-1's next slot waits
        assert other.reserve() == 0  # app-2 is not slowed by app-1
    finally:
        first.close()
        other.close()


def test_an_idle_budget_saves_no_burst(uri: str):
    budget = SharedRateBudget(uri, "app-1", RATE)
    try:
        before, _ = budget.reserve_slot()
        time.sleep(5 * INTERVAL)  # five unused slots pass
        after_idle, wait = budget.reserve_slot()
        following, _ = budget.reserve_slot()
    finally:
        budget.close()
    assert wait <= 0  # sent at once, but the slots that passed are gone:
    assert after_idle - before >= 5 * INTERVAL
    assert following - after_idle == pytest.approx(INTERVAL, abs=1e-6)


def test_acquire_sleeps_until_its_slot(uri: str):
    budget = SharedRateBudget(uri, "app-1", 5.0)
    try:
        started = time.monotonic()
        for _ in range(4):
            budget.acquire()
        elapsed = time.monotonic() - started
    finally:
        budget.close()
    assert 0.55 <= elapsed < 3  # 3 waits of 200 ms after a free first slot


def test_a_thread_woken_too_late_takes_a_new_slot(uri: str):
    now = [0.0]
    oversleep = [0.3, 0.0]  # the first wake-up comes 300 ms late, the next on time

    def sleep(seconds: float) -> None:
        now[0] += seconds + oversleep.pop(0)

    budget = SharedRateBudget(uri, "app-1", 1.0, sleep=sleep, clock=lambda: now[0])
    try:
        budget.reserve()  # the next slot is a second away: acquire has to sleep
        first_slot_to_come = budget.reserve_slot()[0] + 1.0
        budget.acquire()
        next_free = budget.reserve_slot()[0]
    finally:
        budget.close()
    assert budget.late_slots == 1
    assert oversleep == []  # slept twice: the late slot was given up for a new one
    assert next_free == pytest.approx(first_slot_to_come + 2.0, abs=1e-6)


LOCK_HOLDER = f"""
import sys, time, psycopg
conn = psycopg.connect(sys.argv[1])
conn.execute("SELECT * FROM {TABLE} WHERE budget_key = 'app-1' FOR UPDATE")
print("locked", flush=True)
time.sleep(120)
"""


def test_a_killed_holder_of_the_row_leaves_no_lock(uri: str):
    budget = SharedRateBudget(uri, "app-1", RATE)
    budget.reserve()  # the row exists
    holder = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, uri], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        reserved = threading.Event()
        waiter = threading.Thread(target=lambda: (budget.reserve(), reserved.set()))
        waiter.start()
        assert not reserved.wait(0.5)  # the live holder does block the row
        holder.kill()  # e.g. OOM killer: no commit, no rollback from the client
        assert reserved.wait(5)  # the server ended its transaction with its connection
        waiter.join()
    finally:
        holder.kill()
        holder.wait()
        budget.close()


def test_runs_starting_together_create_the_table_once(uri: str):
    def start(_: int) -> float:
        budget = SharedRateBudget(uri, "app-1", RATE)
        try:
            return budget.reserve_slot()[0]
        finally:
            budget.close()

    with ThreadPoolExecutor(max_workers=6) as pool:
        slots = list(pool.map(start, range(6)))
    assert len(set(slots)) == 6
    with psycopg.connect(uri) as conn:
        (persistence,) = conn.execute(
            "SELECT relpersistence FROM pg_class WHERE relname = %s", (TABLE,)
        ).fetchone()
    assert persistence == "u"  # unlogged: no WAL per request


def test_a_dropped_connection_is_reopened(uri: str):
    budget = SharedRateBudget(uri, "app-1", 1.0)
    try:
        budget.reserve()
        with psycopg.connect(uri, autocommit=True) as admin:
            ended = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = 'tap-tiktok-ads shared budget'"
            ).fetchall()
        assert ended == [(True,)]
        assert budget.reserve() > 0.5  # the same budget row, on a new connection
    finally:
        budget.close()


def test_an_unreachable_database_is_one_line_without_the_password(
    fresh_database: dict[str, str],
):
    unreachable = uri_of(fresh_database | {"PGPORT": "1", "PGPASSWORD": "s3cret-budget-pw"})
    with pytest.raises(SharedBudgetError) as caught:
        SharedRateBudget(unreachable, "app-1", RATE)
    message = str(caught.value)
    assert message.startswith("shared_budget: cannot connect (PostgreSQL at ")
    assert f"{fresh_database['PGHOST']}:1/" in message
    assert "\n" not in message
    assert "s3cret-budget-pw" not in message


def test_a_malformed_uri_is_not_quoted_back():
    with pytest.raises(SharedBudgetError) as caught:
        SharedRateBudget("postgresql://user:s3cret-budget-pw@host:notaport/db", "app-1", RATE)
    message = str(caught.value)
    assert "shared_budget" in message
    assert "s3cret-budget-pw" not in message


def test_a_runs_async_task_calls_share_the_apps_async_budget(uri: str):
    """With shared_budget, report/task/* calls reserve slots from a budget of their own per
    app (0.3/s), shared by every run of the app like the ordinary requests' budget."""
    from tap_tiktok_ads.tap import TapTikTokAds
    from tap_tiktok_ads.throttle import paced_rate

    config = {
        "access_token": "t",
        "advertiser_ids": ["1"],
        "start_date": "2026-11-01",
        "app_id": "app-7",
        "app_secret": "s",
        "shared_budget": uri,
        "async_reports": "always",
        "async_requests_per_second": 3,  # TikTok's 0.3 would make this test take 11 s
    }
    runs = [TapTikTokAds(config=config, validate_config=False) for _ in range(2)]
    limiters = [run.async_rate_limiter for run in runs]
    assert all(isinstance(limiter, SharedRateBudget) for limiter in limiters)
    assert {limiter.key for limiter in limiters} == {"app-7/async"}
    ordinary = runs[0].rate_limiter
    assert isinstance(ordinary, SharedRateBudget)
    assert ordinary.key == "app-7"
    interval = 1 / paced_rate(3)
    start = time.monotonic()
    for limiter in [*limiters, *limiters]:  # 4 calls from 2 runs: 3 intervals
        limiter.acquire()
    assert time.monotonic() - start >= 3 * interval - 0.2
