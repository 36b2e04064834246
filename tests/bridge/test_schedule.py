"""Schedule math (UTC, naive): when a data source is due again."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import pytest

from dra_tiktok_ads.schedule import ScheduleError, add_months, next_scheduled_sync


@pytest.mark.parametrize(
    ("schedule", "at", "base", "expected"),
    [
        ("manual", None, datetime(2026, 3, 1, 10, 0), None),
        ("hourly", None, datetime(2026, 3, 1, 10, 0, 42, 5), datetime(2026, 3, 1, 11, 0)),
        ("hourly", None, datetime(2026, 12, 31, 23, 59, 59), datetime(2027, 1, 1, 0, 59)),
        ("daily", None, datetime(2026, 3, 1, 0, 0, 30), datetime(2026, 3, 2, 0, 0)),
        ("daily", time(6, 30), datetime(2026, 3, 1, 5, 0), datetime(2026, 3, 1, 6, 30)),
        ("daily", time(6, 30), datetime(2026, 3, 1, 6, 30), datetime(2026, 3, 2, 6, 30)),
        ("daily", time(6, 30), datetime(2026, 3, 1, 7, 0), datetime(2026, 3, 2, 6, 30)),
        ("weekly", None, datetime(2026, 3, 1, 0, 1), datetime(2026, 3, 8, 0, 0)),
        ("weekly", time(23, 0), datetime(2026, 12, 28, 23, 5), datetime(2027, 1, 4, 23, 0)),
        ("monthly", None, datetime(2026, 1, 15, 0, 2), datetime(2026, 2, 15, 0, 0)),
        ("monthly", time(4, 0), datetime(2026, 1, 31, 4, 0), datetime(2026, 2, 28, 4, 0)),
        ("monthly", None, datetime(2028, 1, 31, 0, 0), datetime(2028, 2, 29, 0, 0)),
        ("monthly", None, datetime(2026, 12, 31, 0, 0), datetime(2027, 1, 31, 0, 0)),
        ("Daily", None, datetime(2026, 3, 1, 12, 0), datetime(2026, 3, 2, 0, 0)),
    ],
)
def test_next_scheduled_sync(
    schedule: str, at: time | None, base: datetime, expected: datetime | None
) -> None:
    assert next_scheduled_sync(schedule, at, base) == expected


def test_schedule_math_is_utc_for_aware_times() -> None:
    # 23:30 in New York (UTC-5 in winter) is 04:30 UTC the next day.
    base = datetime(2026, 1, 10, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    assert next_scheduled_sync("daily", time(6, 0), base) == datetime(2026, 1, 11, 6, 0)


def test_unknown_schedule_is_an_error() -> None:
    with pytest.raises(ScheduleError, match="fortnightly"):
        next_scheduled_sync("fortnightly", None, datetime(2026, 1, 1))


def test_add_months_clamps_to_month_end() -> None:
    assert add_months(datetime(2026, 3, 31).date(), 1).isoformat() == "2026-04-30"
    assert add_months(datetime(2026, 11, 30).date(), 3).isoformat() == "2027-02-28"
