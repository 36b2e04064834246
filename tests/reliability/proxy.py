"""A proxy in front of the simulator that rewrites report bodies: bad data the API might send.

The simulator only sends well-formed data; the real API has sent empty strings, odd values
and repeated rows. The proxy forwards every request and lets a test rewrite the decoded
report envelope before the tap sees it.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

Mutation = Callable[[dict[str, Any]], dict[str, Any]]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def _forward(self) -> None:
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
    upstream_host: str
    mutate: Mutation


class MutatingProxy:
    """``with MutatingProxy(sim.base_url, mutate) as proxy: proxy.api_url``."""

    def __init__(self, upstream_base_url: str, mutate: Mutation) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.upstream_host = urlsplit(upstream_base_url).netloc
        self._server.mutate = mutate
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/open_api/v1.3"

    def __enter__(self) -> MutatingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
