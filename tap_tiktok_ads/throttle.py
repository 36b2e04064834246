"""One request budget for the whole run.

TikTok rate-limits per app (about 10, 20 or 30 requests per second by tier), not per stream,
so every request of a run (all streams, all advertisers, every page fetched concurrently,
retries and token refreshes included) draws from a single token bucket. Throttling up front
is cheaper than being told 40100 and backing off.

Requests are paced a margin (``HEADROOM``) below the app's limit: the limit is counted where
requests arrive, and network jitter bunches requests sent evenly. The same pacing applies to
the budget shared by many runs (``shared_budget``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import requests
from requests.adapters import HTTPAdapter

#: Fraction of the app's limit kept free: requests go out at limit / (1 + HEADROOM) per second.
HEADROOM = 0.1


def paced_rate(app_limit: float) -> float:
    """Requests per second actually sent for an app limit of ``app_limit`` per second."""
    return app_limit / (1 + HEADROOM)


class RateLimiter(Protocol):
    def acquire(self) -> None:
        """Block until one request may be sent."""


class RequestRateLimiter:
    """A token bucket: at most ``rate`` acquisitions per second, bursting up to ``burst``."""

    def __init__(
        self,
        rate: float,
        burst: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            msg = f"rate must be positive, got {rate}"
            raise ValueError(msg)
        self.rate = rate
        self.burst = max(1.0, burst)
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.burst
        self._updated = clock()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Block until one request may be sent."""
        while True:
            with self._lock:
                now = self._clock()
                self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
                self._updated = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                wait = (1 - self._tokens) / self.rate
            self._sleep(wait)


class ThrottledAdapter(HTTPAdapter):
    """An HTTP adapter that takes a token from the shared limiter before every send."""

    def __init__(self, limiter: RateLimiter, pool_size: int) -> None:
        super().__init__(pool_connections=pool_size, pool_maxsize=pool_size)
        self.limiter = limiter

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        self.limiter.acquire()
        return super().send(request, *args, **kwargs)


def throttled_session(limiter: RateLimiter, pool_size: int) -> requests.Session:
    """A session whose every request, on any scheme, passes through ``limiter``."""
    session = requests.Session()
    adapter = ThrottledAdapter(limiter, pool_size)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session
