"""When a data source is due again: the platform's ``sync_schedule`` arithmetic, in UTC.

``dra_data_sources.next_scheduled_sync`` is a ``TIMESTAMP`` without time zone; the runner
reads and writes it as naive UTC (as ``now() AT TIME ZONE 'UTC'``), so there is no daylight
saving time anywhere in this arithmetic.

| schedule | next run, from the moment the run started (``base``) |
| --- | --- |
| ``manual`` | ``None``: never due, only "sync now" runs it |
| ``hourly`` | ``base + 1 hour``, seconds dropped (the platform's scheduler ticks once a minute) |
| ``daily`` | the next ``sync_schedule_time`` strictly after ``base`` (midnight by default) |
| ``weekly`` | ``base``'s date + 7 days, at ``sync_schedule_time`` |
| ``monthly`` | the same day of the next month (clamped to the month's last day), at that time |
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta, timezone

SCHEDULES = ("manual", "hourly", "daily", "weekly", "monthly")
#: Schedules the runner's ``--due`` mode picks up.
AUTOMATIC_SCHEDULES = ("hourly", "daily", "weekly", "monthly")
MIDNIGHT = time(0, 0)


class ScheduleError(ValueError):
    """An unknown ``sync_schedule`` value."""


def utc_now() -> datetime:
    """Now as a naive UTC datetime (the platform's TIMESTAMP columns hold UTC)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def as_naive_utc(moment: datetime) -> datetime:
    """``moment`` as naive UTC (aware values are converted, naive ones taken as UTC)."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def add_months(day: date, months: int) -> date:
    """``day`` moved by ``months``, clamped to the last day of the target month."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def next_scheduled_sync(
    schedule: str | None, schedule_time: time | None, base: datetime
) -> datetime | None:
    """The next ``next_scheduled_sync`` for a run that started at ``base`` (naive UTC)."""
    base = as_naive_utc(base)
    at = (schedule_time or MIDNIGHT).replace(tzinfo=None)
    kind = (schedule or "manual").strip().lower()
    if kind == "manual":
        return None
    if kind == "hourly":
        return (base + timedelta(hours=1)).replace(second=0, microsecond=0)
    if kind == "daily":
        candidate = datetime.combine(base.date(), at)
        return candidate if candidate > base else candidate + timedelta(days=1)
    if kind == "weekly":
        return datetime.combine(base.date() + timedelta(days=7), at)
    if kind == "monthly":
        return datetime.combine(add_months(base.date(), 1), at)
    raise ScheduleError(f"sync_schedule {schedule!r} is not one of {', '.join(SCHEDULES)}.")
