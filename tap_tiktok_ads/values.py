"""Turning the API's string metrics into typed values.

TikTok returns every metric as a string and ``"-"`` where a value is not available. ``"-"``
is not zero (a cost per conversion with no conversions is unknown, not free), so it becomes
null. Anything else that is not a number is logged and nulled rather than guessed at.
These run once per metric per row, so the common case is a single builtin call.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation

LOGGER = logging.getLogger("tap-tiktok-ads")

NOT_AVAILABLE = frozenset({"-", "", "null", "None"})


def _not_a_number(field: str, value: object) -> None:
    """Log a value that is not a number, unless it is TikTok's "-" for not available."""
    if not (value is None or (isinstance(value, str) and value in NOT_AVAILABLE)):
        LOGGER.warning("Metric %s has the non-numeric value %r; emitting null", field, value)


def to_number(field: str, value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        _not_a_number(field, value)
        return None
    if math.isfinite(number):
        return number
    _not_a_number(field, value)
    return None


def to_integer(field: str, value: object) -> int | None:
    try:
        return int(value)  # type: ignore[call-overload, no-any-return]
    except (TypeError, ValueError):
        pass
    try:  # "12.0" or "1e3" from some endpoints
        number = Decimal(str(value))
        if number.is_finite():
            return round(number)
    except (InvalidOperation, ValueError):
        pass
    _not_a_number(field, value)
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
