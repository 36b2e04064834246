"""Request log and counters, read by tests and benchmarks."""

from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import asdict, dataclass
from typing import Any

SECRET_PARAMS = frozenset(
    {"secret", "app_secret", "access_token", "refresh_token", "auth_code", "code"}
)


def mask(value: str) -> str:
    """Keep a hint of a secret (its first 4 characters) for debugging, never the value."""
    return f"{value[:4]}***" if len(value) > 8 else "***"


def masked_params(params: dict[str, Any]) -> dict[str, Any]:
    return {
        key: mask(str(value)) if key in SECRET_PARAMS and value else value
        for key, value in params.items()
    }


@dataclass(frozen=True)
class RequestRecord:
    seq: int
    method: str
    endpoint: str  # path below /open_api/v1.3, e.g. "/report/integrated/get/"
    params: dict[str, Any]  # query and body parameters, secrets masked
    access_token: str  # masked
    outcome: str  # body code ("0", "40002") or "http_503", "malformed", ...
    status: int
    fault: str  # the fault applied, "" when none
    duration_ms: float
    #: time.monotonic() when the request arrived: per-second request rates for tests.
    received_at: float = 0.0


class Stats:
    """Counters by endpoint and outcome, plus a bounded request log. Thread-safe."""

    def __init__(self, max_log_entries: int = 100_000) -> None:
        self._lock = threading.Lock()
        self._max = max_log_entries
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.total = 0
            # 40100 answers from the per-app QPS limit (not armed faults): benchmarks and
            # tests assert this stays 0 when the client paces itself.
            self.rate_limited = 0
            self.by_endpoint: Counter[str] = Counter()
            self.by_outcome: Counter[str] = Counter()
            self.by_endpoint_outcome: Counter[tuple[str, str]] = Counter()
            self.log: deque[RequestRecord] = deque(maxlen=self._max)

    def record(self, entry: RequestRecord) -> None:
        with self._lock:
            self.total += 1
            if entry.fault == "app_qps":
                self.rate_limited += 1
            self.by_endpoint[entry.endpoint] += 1
            self.by_outcome[entry.outcome] += 1
            self.by_endpoint_outcome[(entry.endpoint, entry.outcome)] += 1
            self.log.append(entry)

    def count(self, endpoint: str | None = None, outcome: str | int | None = None) -> int:
        """Requests to an endpoint and/or with an outcome (both optional)."""
        with self._lock:
            if endpoint is None and outcome is None:
                return self.total
            if outcome is None:
                return self.by_endpoint[endpoint or ""]
            if endpoint is None:
                return self.by_outcome[str(outcome)]
            return self.by_endpoint_outcome[(endpoint, str(outcome))]

    def requests(self, endpoint: str | None = None) -> list[RequestRecord]:
        with self._lock:
            return [r for r in self.log if endpoint is None or r.endpoint == endpoint]

    def snapshot(self, include_log: bool = False) -> dict[str, Any]:
        with self._lock:
            by_endpoint_outcome: dict[str, dict[str, int]] = {}
            for (endpoint, outcome), n in sorted(self.by_endpoint_outcome.items()):
                by_endpoint_outcome.setdefault(endpoint, {})[outcome] = n
            result: dict[str, Any] = {
                "total": self.total,
                "rate_limited": self.rate_limited,
                "by_endpoint": dict(sorted(self.by_endpoint.items())),
                "by_outcome": dict(sorted(self.by_outcome.items())),
                "by_endpoint_outcome": by_endpoint_outcome,
            }
            if include_log:
                result["log"] = [asdict(r) for r in self.log]
            return result
