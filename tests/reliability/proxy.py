"""A proxy in front of the simulator that rewrites report bodies: bad data the API might send.

The simulator only sends well-formed data; the real API has sent empty strings, odd values
and repeated rows. The proxy forwards every request and lets a test rewrite the decoded
report envelope before the tap sees it.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

Mutation = Callable[[dict[str, Any]], dict[str, Any]]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def _forward(self) -> None:
        if self.server.down.is_set():  # the "process" died: drop the connection, no answer
            self.close_connection = True
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        upstream = http.client.HTTPConnection(self.server.upstream_host, timeout=30)
        try:
            upstream.request(self.command, self.path, body=body, headers=headers)
            response = upstream.getresponse()
            payload = response.read()
            status = response.status
            content_type = response.getheader("Content-Type", "application/json")
        finally:
            upstream.close()
        if "/report/integrated/get/" in self.path and status == 200:
            envelope = json.loads(payload)
            if envelope.get("code") == 0:
                envelope = self.server.mutate(envelope)
            payload = json.dumps(envelope).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _forward  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:
        """Silent."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    upstream_host: str
    mutate: Mutation
    down: threading.Event


def _unchanged(envelope: dict[str, Any]) -> dict[str, Any]:
    return envelope


class MutatingProxy:
    """``with MutatingProxy(sim.base_url, mutate) as proxy: proxy.api_url``.

    ``restart(new_upstream, downtime)`` plays an API server restart: every open connection
    is dropped, new ones are refused for ``downtime`` seconds, then the same address answers
    again, from ``new_upstream`` (a fresh simulator process).
    """

    def __init__(self, upstream_base_url: str, mutate: Mutation = _unchanged) -> None:
        self._upstream = urlsplit(upstream_base_url).netloc
        self._mutate = mutate
        self._server = self._serve(0)

    def _serve(self, port: int) -> _Server:
        server = _Server(("127.0.0.1", port), _Handler)
        server.upstream_host = self._upstream
        server.mutate = self._mutate
        server.down = threading.Event()
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/open_api/v1.3"

    def restart(self, new_upstream_base_url: str, downtime: float) -> None:
        port = self.port
        self._server.down.set()
        self._server.shutdown()
        self._server.server_close()
        time.sleep(downtime)
        self._upstream = urlsplit(new_upstream_base_url).netloc
        self._server = self._serve(port)

    def __enter__(self) -> MutatingProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.down.set()
        self._server.shutdown()
        self._server.server_close()
