"""OAuth ``state`` values: random, bound to one browser session, single-use, short-lived.

They are kept in a process-wide, thread-safe cache rather than in each session: a session is
loaded at the start of a request and saved at its end, so two callbacks racing with the same
state would each see it unused in their own copy. ``cachelib``'s ``delete`` succeeds exactly
once per key, which makes consuming a state atomic.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from cachelib import SimpleCache

from dra_tiktok_ads.connect.pages import (
    STATE_EXPIRED,
    STATE_MISMATCH,
    STATE_MISSING,
    STATE_REUSED,
    ErrorPage,
)

MAX_STATES = 5000
# Entries outlive their validity so that a late callback is told "expired", not "unknown".
KEEP_FACTOR = 3


class OAuthStates:
    def __init__(
        self, ttl_seconds: int, *, now: Callable[[], datetime], rng: Callable[[], str]
    ) -> None:
        self._ttl = timedelta(seconds=ttl_seconds)
        self._now = now
        self._rng = rng
        self._cache = SimpleCache(threshold=MAX_STATES, default_timeout=ttl_seconds * KEEP_FACTOR)

    def issue(self, browser: str) -> str:
        """A fresh state for the browser session identified by ``browser``."""
        state = self._rng()
        self._cache.set(f"issued:{state}", {"browser": browser, "at": self._now().isoformat()})
        return state

    def consume(self, state: str, browser: str | None) -> ErrorPage | None:
        """Use ``state`` up; return the page to show when it must be rejected."""
        if not state:
            return STATE_MISSING
        if self._cache.has(f"used:{state}"):
            return STATE_REUSED
        issued = self._cache.get(f"issued:{state}")
        if not isinstance(issued, dict) or not browser or issued.get("browser") != browser:
            return STATE_MISMATCH
        if not self._cache.delete(f"issued:{state}"):
            return STATE_REUSED  # a concurrent callback with the same state won
        self._cache.set(f"used:{state}", True)
        if self._now() - datetime.fromisoformat(str(issued["at"])) > self._ttl:
            return STATE_EXPIRED
        return None
