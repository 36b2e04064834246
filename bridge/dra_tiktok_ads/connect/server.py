"""The connect app under waitress, in a background thread, with a clean stop.

``waitress.serve`` runs until the process is interrupted; the CLI must stop by itself once a
connection is saved. So the server is made with ``create_server`` over a socket map of our
own, its loop runs in a thread, and ``close`` closes every socket (listeners, the browser's
idle keep-alive connections) from inside that loop, as waitress's event loop is not
thread-safe, then stops the worker threads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any

from waitress import wasyncore
from waitress.server import create_server
from waitress.trigger import trigger

WORKER_THREADS = 4
STOP_TIMEOUT_SECONDS = 5


class Server:
    """Serves ``app`` on ``host:port`` from the moment it is made until ``close``."""

    def __init__(self, app: Callable[..., Any], host: str, port: int) -> None:
        self._map: dict[Any, Any] = {}  # waitress's socket map, keyed by file descriptor
        # Raises OSError when the port is taken; nothing is running yet then.
        self._server = create_server(
            app, map=self._map, host=host, port=port, threads=WORKER_THREADS
        )
        # A wake-up pipe in the loop's map: its callbacks run on the loop's own thread.
        self._wake = trigger(self._map)
        self._thread = threading.Thread(
            target=self._server.run, name="tap-tiktok-ads-connect-server", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        if self._thread.is_alive():
            self._wake.pull_trigger(self._close_all_sockets)
            self._thread.join(STOP_TIMEOUT_SECONDS)
        self._server.task_dispatcher.shutdown(timeout=STOP_TIMEOUT_SECONDS)

    def _close_all_sockets(self, _: object = None) -> None:
        wasyncore.close_all(self._map)

    def __enter__(self) -> Server:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
