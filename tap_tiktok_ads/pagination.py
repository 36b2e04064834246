"""Page-number pagination driven by ``page_info``, and ordered concurrent page fetching."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future
from typing import Any, TypeVar

import requests
from singer_sdk.pagination import PageNumberPaginator

T = TypeVar("T")


def envelope_data(envelope: dict[str, Any]) -> dict[str, Any]:
    data = envelope.get("data")
    return data if isinstance(data, dict) else {}


def total_pages(data: dict[str, Any]) -> int:
    """``page_info.total_page``; an empty report says 0."""
    page_info = data.get("page_info") or {}
    return int(page_info.get("total_page") or 0)


def has_more_pages(data: dict[str, Any]) -> bool:
    page_info = data.get("page_info") or {}
    return int(page_info.get("page") or 1) < total_pages(data)


class TikTokPaginator(PageNumberPaginator):
    """Pages 1..total_page; stops on the last page rather than on an empty one."""

    def __init__(self) -> None:
        super().__init__(start_value=1)

    def has_more(self, response: requests.Response) -> bool:
        from tap_tiktok_ads.client import envelope_of

        return has_more_pages(envelope_data(envelope_of(response)))


def prefetch_ordered(
    executor: Executor, tasks: Iterable[Callable[[], T]], depth: int
) -> Iterator[T]:
    """Run up to ``depth`` tasks ahead on ``executor``; yield their results in task order.

    Bounded look-ahead keeps memory flat (at most ``depth`` pages held) while requests
    overlap their latency; the order keeps state checkpoints simple.
    """
    pending: deque[Future[T]] = deque()
    remaining = iter(tasks)
    try:
        for task in remaining:
            pending.append(executor.submit(task))
            if len(pending) >= depth:
                break
        while pending:
            result = pending.popleft().result()
            next_task = next(remaining, None)
            if next_task is not None:
                pending.append(executor.submit(next_task))
            yield result
    finally:
        for future in pending:
            future.cancel()
