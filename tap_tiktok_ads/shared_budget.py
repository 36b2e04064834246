"""One request budget per TikTok app, shared by every run on every host, kept in PostgreSQL.

TikTok limits requests per app, not per run. The run's own throttle (``throttle``) keeps one
run within the limit, but runs in parallel (many data sources, processes, machines) add up.
With ``shared_budget`` set, every request first reserves a send slot from one row per app:
a single atomic upsert moves the app's next free slot on by one interval and returns the
slot it passed over, so slots are spaced one interval apart whoever asks. It is one round
trip per request, and its row lock lasts one autocommit statement, so a run killed at any
moment leaves no lock behind (a reserved but unused slot is merely wasted). Slots are in
the database's clock: hosts need not agree on the time.

psycopg comes with the ``shared-budget`` extra and is imported only when configured, so the
tap alone keeps its three dependencies.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from tap_tiktok_ads.redaction import redact
from tap_tiktok_ads.throttle import HEADROOM

LOGGER = logging.getLogger("tap-tiktok-ads")

#: Unlogged: the next free slot is worth nothing after a database crash, so no WAL for it.
TABLE = "tap_tiktok_ads_rate_budget"
_CREATE_TABLE = f"""
CREATE UNLOGGED TABLE IF NOT EXISTS {TABLE} (
    budget_key text PRIMARY KEY,
    next_slot timestamptz NOT NULL
)
"""
#: Hands out max(next free slot, now) and moves the next free slot one interval past it;
#: returns the slot handed out (epoch seconds) and the seconds from now until it.
_RESERVE = f"""
WITH reserved AS (
    INSERT INTO {TABLE} AS budget (budget_key, next_slot)
    VALUES (%(key)s, clock_timestamp() + make_interval(secs => %(interval)s))
    ON CONFLICT (budget_key) DO UPDATE
    SET next_slot = greatest(budget.next_slot, clock_timestamp())
        + make_interval(secs => %(interval)s)
    RETURNING next_slot - make_interval(secs => %(interval)s) AS slot
)
SELECT extract(epoch FROM slot)::float8, extract(epoch FROM slot - clock_timestamp())::float8
FROM reserved
"""
#: A statement stuck behind a live but hung holder of the row fails instead of waiting forever.
_STATEMENT_TIMEOUT_MS = 10_000
_CONNECT_TIMEOUT_S = 10
#: Seconds after its slot a request may still go out (see ``SharedRateBudget.acquire``).
#: Paced at limit / (1 + HEADROOM), the slots of one limit's worth of requests span
#: 1 + HEADROOM seconds whatever the tier, so that is the slack in seconds.
MAX_LATENESS_S = HEADROOM / 4
#: Reconnects per request after the connection dropped, before the run fails.
_RECONNECTS = 3


class SharedBudgetError(Exception):
    """The shared budget cannot be used; the message is one line naming the setting."""


def psycopg_missing_error() -> str | None:
    """The config error when ``shared_budget`` is set but psycopg is not installed."""
    import importlib.util

    if importlib.util.find_spec("psycopg") is not None:
        return None
    return (
        "shared_budget is set but psycopg is not installed: install the tap with its "
        "shared-budget extra (pip install 'dra-tap-tiktok-ads[shared-budget]') or unset "
        "shared_budget"
    )


class SharedRateBudget:
    """At most ``rate`` requests per second under ``key``, across every process using it."""

    def __init__(
        self,
        conninfo: str,
        key: str,
        rate: float,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0:
            msg = f"rate must be positive, got {rate}"
            raise ValueError(msg)
        self.key = key
        self.interval = 1.0 / rate
        self._conninfo = conninfo
        self._sleep = sleep
        self._clock = clock
        #: Slots given up because the thread woke too late to use them.
        self.late_slots = 0
        self._lock = threading.Lock()  # one connection, one statement at a time
        self._conn: Any = self._connect()
        self._ensure_table()

    def acquire(self) -> None:
        """Block until this process may send one request.

        A request sent well after its slot (a busy machine woke the thread late) would land
        among the requests of the slots that follow, and the app's one-second window could
        then hold one too many: the headroom absorbs delays up to ``HEADROOM`` seconds in
        all. So a thread that gets to send later than a quarter of that after its slot
        (reading the reply and waking up included) takes a new slot instead; the rest is
        left for sending, the network and the server. Measured on a loaded 2-core machine
        (3 processes, tests/tap/test_shared_budget_fleet.py): lateness counted from the
        reply with half the headroom let one run in three bunch an eleventh request into a
        second; counted from the request with a quarter, none in ten runs.
        """
        while True:
            # From before the round trip: a reply read late counts as lateness too.
            asked = self._clock()
            wait = self.reserve()
            due = asked + wait
            if wait > 0:
                self._sleep(wait)
            late = self._clock() - due
            if late <= MAX_LATENESS_S:
                return
            self.late_slots += 1
            if self.late_slots == 1:  # once per run: a sign of an overloaded machine
                LOGGER.info(
                    "Shared budget: a request woke %.0f ms after its slot and took a new one "
                    "(the machine is busy; such slots are lost to the app's rate)",
                    late * 1000,
                )

    def reserve(self) -> float:
        """Reserve the next slot; the seconds to wait until it (0 when it is now)."""
        return max(0.0, self.reserve_slot()[1])

    def reserve_slot(self) -> tuple[float, float]:
        """Reserve the next slot: (its time in the database's clock, epoch seconds; the
        seconds from now until it, negative when it is already past)."""
        import psycopg

        with self._lock:
            for attempt in range(_RECONNECTS + 1):
                try:
                    row = self._conn.execute(
                        _RESERVE, {"key": self.key, "interval": self.interval}
                    ).fetchone()
                    return float(row[0]), float(row[1])
                except psycopg.OperationalError as error:
                    # A dropped connection (database restart, network): reconnect and retry.
                    if attempt == _RECONNECTS or not self._conn.closed:
                        failure = self._failure("reserve a request slot", error)
                        raise SharedBudgetError(failure) from None
                    self._conn = self._connect()
        raise AssertionError  # unreachable: the loop returns or raises

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _connect(self) -> Any:
        import psycopg

        try:
            return psycopg.connect(
                self._conninfo,
                autocommit=True,
                connect_timeout=_CONNECT_TIMEOUT_S,
                application_name="tap-tiktok-ads shared budget",
            )
        except (psycopg.Error, ValueError) as error:
            raise SharedBudgetError(self._failure("connect", error)) from None

    def _ensure_table(self) -> None:
        """Create the budget table unless it exists (one creator at a time)."""
        import psycopg

        try:
            self._conn.execute(f"SET statement_timeout = {_STATEMENT_TIMEOUT_MS}")
            exists = self._conn.execute("SELECT to_regclass(%s)", (TABLE,)).fetchone()[0]
            if exists is None:
                with self._conn.transaction():
                    # Two runs starting at once would both try CREATE; the lock orders them.
                    self._conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (TABLE,))
                    self._conn.execute(_CREATE_TABLE)
        except psycopg.Error as error:
            raise SharedBudgetError(self._failure(f"create table {TABLE}", error)) from None

    def _failure(self, what: str, error: Exception) -> str:
        """One line: what failed, where, why, and what to do. Never the URI nor its
        password."""
        from psycopg.conninfo import conninfo_to_dict

        try:
            parts = conninfo_to_dict(self._conninfo)
        except Exception:  # libpq's parse errors quote the string itself
            return (
                "shared_budget is not a PostgreSQL connection URI: use e.g. "
                "postgresql://user@host:5432/dbname (the password from PGPASSWORD or ~/.pgpass)"
            )
        reason = " ".join(str(error).split()) or type(error).__name__
        reason = redact(reason, [self._conninfo, str(parts.get("password") or "")])
        where = "{}:{}/{}".format(
            parts.get("host") or "(PGHOST or local socket)",
            parts.get("port") or "(PGPORT or 5432)",
            parts.get("dbname") or "(PGDATABASE or default)",
        )
        return (
            f"shared_budget: cannot {what} (PostgreSQL at {where}: {reason}); check "
            "shared_budget and that the database is reachable, or unset shared_budget to "
            "throttle this run alone"
        )
