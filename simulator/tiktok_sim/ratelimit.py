"""The per-app QPS limit: one sliding one-second window over every request of the app.

TikTok counts queries per developer app, over every access token and advertiser using it, and
answers 40100 above the app's tier (10, 20 or 30 per second). The simulator serves one app,
so every API call counts. Only admitted requests enter the window: a client that keeps
hammering is refused while it keeps the window full, and gets through once it slows down.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

WINDOW_S = 1.0


class AppRateLimiter:
    def __init__(
        self, clock: Callable[[], float] = time.monotonic, window_s: float = WINDOW_S
    ) -> None:
        self._clock = clock
        self._window_s = window_s
        self._lock = threading.Lock()
        self._admitted: deque[float] = deque()
        self.rejected = 0

    def admit(self, limit: int | None) -> int | None:
        """None when the request may go on; else the current QPS (for the 40100 message)."""
        if limit is None:
            return None
        with self._lock:
            now = self._clock()
            while self._admitted and self._admitted[0] <= now - self._window_s:
                self._admitted.popleft()
            if len(self._admitted) >= limit:
                self.rejected += 1
                return len(self._admitted) + 1
            self._admitted.append(now)
            return None

    def reset(self) -> None:
        with self._lock:
            self._admitted.clear()
            self.rejected = 0


#: Rates below one per second (the async report endpoints' 0.3) are counted over this window:
#: at most ``rate x ASYNC_WINDOW_S`` requests in any 10 seconds.
ASYNC_WINDOW_S = 10.0


def requests_per_window(rate: float | None) -> int | None:
    """The async limit as a count per ``ASYNC_WINDOW_S`` (0.3/s: 3 in any 10 s)."""
    return None if rate is None else max(1, int(rate * ASYNC_WINDOW_S))
