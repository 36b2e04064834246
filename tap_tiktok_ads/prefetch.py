"""Ordered concurrent fetching: pages requested ahead on a thread pool, read in order."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future
from typing import TypeVar

T = TypeVar("T")


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
