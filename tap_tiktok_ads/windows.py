"""Report date windows, and every page of every window in the order they are read."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from typing import TypeVar

from tap_tiktok_ads.pagination import RawPage

#: TikTok rejects daily reports spanning more than this many days (code 40002).
MAX_WINDOW_DAYS = 30


@dataclass(frozen=True)
class DateWindow:
    start: date
    end: date


def date_windows(start: date, end: date, max_days: int = MAX_WINDOW_DAYS) -> list[DateWindow]:
    """Inclusive windows of at most ``max_days`` covering ``start``..``end``."""
    windows = []
    while start <= end:
        window_end = min(start + timedelta(days=max_days - 1), end)
        windows.append(DateWindow(start, window_end))
        start = window_end + timedelta(days=1)
    return windows


TaggedPage = tuple[DateWindow, RawPage, bool]
Query = TypeVar("Query")
#: The queries that answer one window in full, each with its first page (``report_queries``).
WindowPlan = list[tuple[Query, RawPage]]


def window_page_tasks(
    windows: list[DateWindow],
    plans: Iterator[WindowPlan[Query]],
    fetch: Callable[[Query, int], RawPage],
) -> Iterator[Callable[[], TaggedPage]]:
    """Every page of every query of every window, in order, tagged with its window and whether
    it is the window's last. A failed plan is raised in its turn, after earlier windows."""
    for window in windows:
        try:
            plan = next(plans)
        except Exception as error:  # re-raised when its turn comes
            yield partial(_raise, error)
            return
        for index, (query, first_page) in enumerate(plan):
            last_query = index == len(plan) - 1
            last = max(first_page.total_page, 1)
            yield partial(_tagged, window, first_page, last_query and last == 1)
            for number in range(2, last + 1):
                yield partial(
                    _fetch_tagged,
                    window,
                    partial(fetch, query),
                    number,
                    last_query and number == last,
                )


def _raise(error: Exception) -> TaggedPage:
    raise error


def _tagged(window: DateWindow, page: RawPage, is_last: bool) -> TaggedPage:
    return window, page, is_last


def _fetch_tagged(
    window: DateWindow,
    fetch: Callable[[int], RawPage],
    number: int,
    is_last: bool,
) -> TaggedPage:
    return window, fetch(number), is_last
