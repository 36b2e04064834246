from __future__ import annotations

import signal
from collections.abc import Generator, Iterator

import pytest

from tap_tiktok_ads.client import TikTokStream
from tests.tap.fake_api import FakeTikTok, fake_api
from tests.tap.simulated import pin_today


@pytest.fixture(autouse=True)
def no_backoff_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries happen at once in tests; the schedule itself is tested separately."""

    def immediate(self: TikTokStream) -> Generator[float, None, None]:
        while True:
            yield 0.0

    monkeypatch.setattr(TikTokStream, "backoff_wait_generator", immediate)


@pytest.fixture
def api() -> Iterator[FakeTikTok]:
    with fake_api() as fake:
        yield fake


@pytest.fixture(autouse=True)
def restore_signal_handlers() -> Iterator[None]:
    """The SDK installs SIGINT/SIGTERM handlers when a tap is built in-process; undo that so
    pytest itself can still be interrupted."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


@pytest.fixture
def pinned_today(monkeypatch: pytest.MonkeyPatch) -> None:
    """The simulated today (``simulated.SIM_TODAY``) as the tap's today."""
    pin_today(monkeypatch)
