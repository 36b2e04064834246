"""Switchable faults: the misbehaviour of the real API, on demand, per test."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from tiktok_sim.auth import TokenStore

MALFORMED_KINDS = ("truncated", "html", "not_json", "disconnect")
HTTP_ERROR_STATUSES = (403, 429, 500, 502, 503, 504)
TASK_CHECK_ENDPOINT = "/report/task/check/"
#: What a failed task's check says unless the fault gives a message (the simulator's wording).
TASK_FAILURE = "Report task failed: internal error. Please create the task again."


@dataclass
class Fault:
    """One armed fault: applies to the next ``remaining`` matching API calls."""

    kind: str  # rate_limit | http_error | slow | malformed | api_error | drop_rows | task_failed
    remaining: int
    endpoint: str | None = None  # e.g. "/report/integrated/get/"; None: every endpoint
    code: int = 0
    status: int = 0
    seconds: float = 0.0
    variant: str = ""
    message: str = ""

    def matches(self, endpoint: str) -> bool:
        return self.endpoint is None or endpoint.rstrip("/") == self.endpoint.rstrip("/")

    def describe(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in (None, "", 0, 0.0)} | {
            "remaining": self.remaining
        }


class Faults:
    """Fault switches. Armed faults are consumed in the order they were added."""

    def __init__(self, tokens: TokenStore, latency_ms: int = 0) -> None:
        self._tokens = tokens
        self._lock = threading.Lock()
        self._armed: list[Fault] = []
        self._default_latency_ms = latency_ms
        self._latency_ms = latency_ms

    # ----- switches -------------------------------------------------------------------------

    def rate_limit(self, n: int = 1, code: int = 40100, endpoint: str | None = None) -> None:
        """Answer the next n calls with body code 40100 (app) or 40133 (advertiser QPS)."""
        if code not in (40100, 40133):
            raise ValueError("rate limit code must be 40100 or 40133")
        self._arm(Fault("rate_limit", n, endpoint, code=code))

    def http_error(self, status: int, n: int = 1, endpoint: str | None = None) -> None:
        """Answer the next n calls with a bare HTTP error (429, 500, 503, 504, ...)."""
        if status not in HTTP_ERROR_STATUSES:
            raise ValueError(f"status must be one of {HTTP_ERROR_STATUSES}")
        self._arm(Fault("http_error", n, endpoint, status=status))

    def slow(self, n: int = 1, seconds: float = 5.0, endpoint: str | None = None) -> None:
        """Delay the next n responses by ``seconds`` (to go past a client timeout)."""
        self._arm(Fault("slow", n, endpoint, seconds=float(seconds)))

    def malformed(self, n: int = 1, kind: str = "truncated", endpoint: str | None = None) -> None:
        """Break the next n bodies: truncated JSON, an HTML error page, not JSON at all, or
        ``disconnect`` (the connection drops halfway through the announced body)."""
        if kind not in MALFORMED_KINDS:
            raise ValueError(f"kind must be one of {MALFORMED_KINDS}")
        self._arm(Fault("malformed", n, endpoint, variant=kind))

    def api_error(
        self, code: int = 50002, n: int = 1, endpoint: str | None = None, message: str = ""
    ) -> None:
        """Answer the next n calls with HTTP 200 and this body code (50002, 40200, ...)."""
        self._arm(Fault("api_error", n, endpoint, code=code, message=message))

    def fail_async_task(self, n: int = 1, message: str = TASK_FAILURE) -> None:
        """The async report tasks of the next n ``report/task/check`` calls end FAILED with
        ``message`` (and stay so: later checks say FAILED, a download is 40201)."""
        self._arm(Fault("task_failed", n, TASK_CHECK_ENDPOINT, message=message))

    def drop_rows(self, n: int = 1, endpoint: str | None = None) -> None:
        """Leave the last row out of the next n list answers, page_info and totals unchanged:
        rows lost without a warning, which only a reconciliation with total_metrics shows."""
        self._arm(Fault("drop_rows", n, endpoint))

    def expire_access_tokens(self, at: datetime | str | None = None) -> None:
        """Every access token known now expires at ``at`` (default: now); then 40105."""
        if isinstance(at, str):
            at = datetime.fromisoformat(at.replace("Z", "+00:00"))
        moment = time.time() if at is None else _epoch(at)
        self._tokens.expire_access_tokens(moment)

    def revoke_token(self, token: str) -> None:
        """The access (or refresh) token stops working at once."""
        self._tokens.revoke(token)

    @property
    def latency_ms(self) -> int:
        return self._latency_ms

    @latency_ms.setter
    def latency_ms(self, value: int) -> None:
        if value < 0:
            raise ValueError("latency must not be negative")
        self._latency_ms = int(value)

    def latency(self, ms: int) -> None:
        """Same as setting ``latency_ms`` (a method, for the JSON interface)."""
        self.latency_ms = ms

    def clear(self) -> None:
        """Disarm every fault, restore the configured latency and the configured token."""
        with self._lock:
            self._armed.clear()
        self._latency_ms = self._default_latency_ms
        self._tokens.restore_configured_token()

    # ----- used by the server ---------------------------------------------------------------

    def armed(self) -> list[dict[str, Any]]:
        with self._lock:
            return [fault.describe() for fault in self._armed]

    def take(self, endpoint: str) -> Fault | None:
        """The first armed fault for this endpoint, consuming one of its calls."""
        with self._lock:
            for fault in self._armed:
                if fault.matches(endpoint):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._armed.remove(fault)
                    return fault
        return None

    def _arm(self, fault: Fault) -> None:
        if fault.remaining < 1:
            raise ValueError("n must be at least 1")
        with self._lock:
            self._armed.append(fault)

    def apply_json(self, spec: dict[str, Any]) -> None:
        """Arm a fault from JSON: {"fault": "<method name>", ...keyword arguments}."""
        spec = dict(spec)
        name = spec.pop("fault", None)
        if name not in JSON_FAULTS:
            raise ValueError(f"unknown fault {name!r}; expected one of {sorted(JSON_FAULTS)}")
        getattr(self, name)(**spec)


JSON_FAULTS = frozenset(
    {
        "rate_limit",
        "http_error",
        "slow",
        "malformed",
        "api_error",
        "drop_rows",
        "fail_async_task",
        "expire_access_tokens",
        "revoke_token",
        "latency",
        "clear",
    }
)


def _epoch(moment: datetime) -> float:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()
