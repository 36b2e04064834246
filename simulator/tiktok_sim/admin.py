"""The /_sim/ admin endpoints: stats, faults, switches, dataset, reset, revisions."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

from tiktok_sim.config import SimConfig
from tiktok_sim.dataset import Advertiser, Dataset
from tiktok_sim.faults import Faults
from tiktok_sim.ratelimit import AppRateLimiter
from tiktok_sim.stats import Stats


class Admin:
    def __init__(  # noqa: PLR0917 - the parts of the simulator it controls
        self,
        config: SimConfig,
        dataset: Dataset,
        faults: Faults,
        stats: Stats,
        limiter: AppRateLimiter,
        api_url: Callable[[], str],
        async_limiter: AppRateLimiter | None = None,
    ) -> None:
        self.config = config
        self.dataset = dataset
        self.faults = faults
        self.stats = stats
        self.limiter = limiter
        self._api_url = api_url
        self.async_limiter = async_limiter

    def handle(
        self, method: str, action: str, query: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, Any]]:
        """(HTTP status, JSON body) of one admin call."""
        try:
            payload: Any = json.loads(body) if body else {}
            result = self._action(method, action, query, payload)
        except (ValueError, TypeError, KeyError) as error:
            return 400, {"ok": False, "error": str(error)}
        if result is None:
            return 404, {"ok": False, "error": f"unknown {method} /_sim/{action}"}
        return 200, {"ok": True, **result}

    def _action(
        self, method: str, action: str, query: dict[str, str], payload: Any
    ) -> dict[str, Any] | None:
        actions: dict[tuple[str, str], Callable[[], dict[str, Any]]] = {
            ("GET", "health"): lambda: {"status": "ok", "api_url": self._api_url()},
            ("GET", "stats"): lambda: self.stats.snapshot(
                include_log=query.get("log") in ("1", "true")
            ),
            ("GET", "faults"): self._armed_faults,
            ("GET", "switches"): self.config.switches,
            ("POST", "switches"): lambda: self._set_switches(payload),
            ("GET", "dataset"): lambda: {
                "advertisers": [_advertiser_summary(a) for a in self.dataset.advertisers]
            },
            ("POST", "faults"): lambda: self._arm_faults(payload),
            ("POST", "reset"): lambda: self._reset(payload),
            ("POST", "revise"): lambda: self._revise(payload),
        }
        handler = actions.get((method, action))
        return None if handler is None else handler()

    def _armed_faults(self) -> dict[str, Any]:
        return {"armed": self.faults.armed(), "latency_ms": self.faults.latency_ms}

    def _arm_faults(self, payload: Any) -> dict[str, Any]:
        for spec in payload if isinstance(payload, list) else [payload]:
            self.faults.apply_json(spec)
        return self._armed_faults()

    def _set_switches(self, payload: Any) -> dict[str, Any]:
        if not isinstance(payload, dict):
            raise TypeError('switches: send a JSON object, e.g. {"app_qps_limit": 20}')
        self.config.set_switches(payload)
        return self.config.switches()

    def _reset(self, payload: Any) -> dict[str, Any]:
        self.stats.reset()
        self.limiter.reset()
        if self.async_limiter is not None:
            self.async_limiter.reset()
        self.faults.clear()
        if isinstance(payload, dict) and payload.get("revisions"):
            self.dataset.clear_revisions()
        return {}

    def _revise(self, payload: Any) -> dict[str, Any]:
        self.dataset.revise(
            str(payload["advertiser_id"]),
            date.fromisoformat(payload["date"]),
            float(payload.get("factor", 1.25)),
        )
        return {}


def _advertiser_summary(advertiser: Advertiser) -> dict[str, Any]:
    return {
        "advertiser_id": advertiser.advertiser_id,
        "name": advertiser.name,
        "currency": advertiser.currency,
        "timezone": advertiser.timezone,
        "first_day": advertiser.first_day.isoformat(),
        "last_day": advertiser.last_day.isoformat(),
    }
