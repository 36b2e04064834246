"""Turning the API's string metrics into typed values.

TikTok returns every metric as a string and ``"-"`` where a value is not available. ``"-"``
is not zero (a cost per conversion with no conversions is unknown, not free), so it becomes
null. Anything else that is not a number is logged and nulled rather than guessed at.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation

LOGGER = logging.getLogger("tap-tiktok-ads")

NOT_AVAILABLE = frozenset({"-", "", "null", "None"})


def _unparseable(field: str, value: object) -> None:
    LOGGER.warning("Metric %s has the non-numeric value %r; emitting null", field, value)


def to_integer(field: str, value: object) -> int | None:
    if value is None or isinstance(value, int):
        return value
    if isinstance(value, float):
        return round(value)
    if not isinstance(value, str) or value in NOT_AVAILABLE:
        return None
    try:
        return int(value)
    except ValueError:
        pass
    try:  # "12.0" or "1e3" from some endpoints
        return round(Decimal(value))
    except (InvalidOperation, ValueError):
        _unparseable(field, value)
        return None


def to_number(field: str, value: object) -> float | None:
    if value is None or isinstance(value, float):
        return value
    if isinstance(value, int):
        return float(value)
    if not isinstance(value, str) or value in NOT_AVAILABLE:
        return None
    try:
        return float(value)
    except ValueError:
        _unparseable(field, value)
        return None


def report_day(value: str) -> str:
    """``"2026-11-01 00:00:00"`` (advertiser-local, no zone) -> ``"2026-11-01"``."""
    return value[:10]


def api_time_to_iso(value: object) -> str | None:
    """Entity times come as ``"YYYY-MM-DD HH:MM:SS"`` in UTC, or as epoch seconds.

    Emitted with an explicit zone so no loader guesses.
    """
    if value in (None, "", "-"):
        return None
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.isdigit()):
        return datetime.fromtimestamp(int(value), tz=timezone.utc).isoformat()
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            LOGGER.warning("Unrecognised time value %r; emitting null", value)
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        return parsed.isoformat()
    return None
