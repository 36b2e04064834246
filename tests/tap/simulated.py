"""What the tap's tests against the simulator share: a simulator whose data ends on
``SIM_TODAY`` and has no app QPS limit (the tap runs unthrottled there, at ``FAST``), the
tap's configuration for it, and ``SIM_TODAY`` pinned as the tap's today."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timezone
from typing import Any

import pytest

from tap_tiktok_ads.streams import defined_reports, reports
from tiktok_sim import SimConfig, Simulator

SIM_TODAY = date(2026, 11, 20)
FAST = 200  # requests/s: these tests are about records, not pacing


@contextmanager
def fast_simulator(**config: Any) -> Iterator[Simulator]:
    """A simulator of ``config`` (SimConfig fields) ending on SIM_TODAY, without the app's QPS
    limit unless ``config`` sets one."""
    with Simulator(SimConfig(**({"end_date": SIM_TODAY, "app_qps_limit": None} | config))) as sim:
        yield sim


def tap_config(sim: Simulator, start_date: date | str, /, **overrides: Any) -> dict[str, Any]:
    """The tap's settings for ``sim`` from ``start_date``, at FAST requests/s; ``overrides``
    win (``start_date`` among them)."""
    return {
        "access_token": sim.config.access_token,
        "api_url": sim.api_url,
        "app_id": sim.config.app_id,
        "app_secret": sim.config.app_secret,
        "start_date": str(start_date),
        "max_requests_per_second": FAST,
    } | overrides


def pin_today(monkeypatch: pytest.MonkeyPatch, day: date = SIM_TODAY) -> None:
    """Noon UTC on ``day`` as the tap's now: that is ``day`` in every simulated time zone (the
    simulator's zones stay within UTC-12..UTC+12)."""
    noon = datetime(day.year, day.month, day.day, 12, tzinfo=timezone.utc)
    monkeypatch.setattr(reports, "utc_now", lambda: noon)
    monkeypatch.setattr(defined_reports, "utc_now", lambda: noon)
