"""The HTTP layer: routing, envelope, faults, stats, and the ``Simulator`` itself."""

from __future__ import annotations

import json
import threading
import time
import traceback
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tiktok_sim.admin import Admin
from tiktok_sim.api import Api
from tiktok_sim.auth import TokenStore
from tiktok_sim.config import SimConfig
from tiktok_sim.dataset import Dataset
from tiktok_sim.faults import Fault, Faults
from tiktok_sim.params import ApiError, Params
from tiktok_sim.portal import DECISION_PATH, Portal
from tiktok_sim.ratelimit import ASYNC_WINDOW_S, AppRateLimiter, requests_per_window
from tiktok_sim.stats import RequestRecord, Stats, mask, masked_params
from tiktok_sim.tasks import CSV_TYPE

API_PREFIX = "/open_api/v1.3"
PORTAL_PATH = "/portal/auth"
LEGACY_PORTAL_PATH = "/marketing_api/auth"  # the consent URL in older TikTok docs
ADMIN_PREFIX = "/_sim/"
JSON_TYPE = "application/json"
HTML_TYPE = "text/html; charset=utf-8"

HTTP_ERROR_PAGES = {
    403: "403 Forbidden",
    429: "429 Too Many Requests",
    500: "500 Internal Server Error",
    502: "502 Bad Gateway",
    503: "503 Service Unavailable",
    504: "504 Gateway Time-out",
}
APP_QPS_FAULT = "app_qps"  # the request log's mark for a 40100 from app_qps_limit
ASYNC_QPS_FAULT = "async_qps"  # ... and from async_qps_limit (report/task/*)
ASYNC_PREFIX = "/report/task/"
FILES_PREFIX = "/_sim/files/"  # CSV_DOWNLOAD links of async report tasks
RATE_LIMIT_MESSAGES = {
    40100: "Requests made too frequently. The app's requests are temporarily restricted.",
    40133: "Too many requests for this advertiser. Please reduce the request frequency.",
}


def dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


@dataclass
class Request:
    method: str
    target: str  # path and query string as sent
    headers: dict[str, str]  # lower-case names
    body: bytes = b""


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = JSON_TYPE
    headers: dict[str, str] = field(default_factory=dict)
    # Send only this many body bytes (Content-Length stays complete), then drop the connection.
    cut_after: int | None = None


class App:
    """Everything but sockets: turns a Request into a Response."""

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.dataset = Dataset(config)
        self.tokens = TokenStore(config, self.dataset.advertiser_ids)
        self.faults = Faults(self.tokens, config.latency_ms)
        self.stats = Stats(config.max_log_entries)
        self.limiter = AppRateLimiter()
        self.async_limiter = AppRateLimiter(window_s=ASYNC_WINDOW_S)
        self.admin = Admin(
            config,
            self.dataset,
            self.faults,
            self.stats,
            self.limiter,
            lambda: self.api_url,
            self.async_limiter,
        )
        self.api = Api(config, self.dataset, self.tokens)
        self.api.base_url = lambda: self.api_url.removesuffix(API_PREFIX)
        self.portal = Portal(config, self.dataset, self.tokens)
        self.stopping = threading.Event()
        self._seq_lock = threading.Lock()
        self._seq = 0
        self.api_url = ""  # set by the Simulator once the port is known

    def _next_seq(self) -> int:
        with self._seq_lock:
            self._seq += 1
            return self._seq

    def handle(self, request: Request) -> Response:
        parts = urlsplit(request.target)
        path = parts.path
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        try:
            if path.startswith(FILES_PREFIX):
                return self._file(path[len(FILES_PREFIX) :])
            if path.startswith(ADMIN_PREFIX):
                return self._admin(request.method, path, query, request.body)
            if path in (PORTAL_PATH, PORTAL_PATH + "/", LEGACY_PORTAL_PATH, DECISION_PATH):
                return self._portal(request, path, query)
            if path.startswith(API_PREFIX + "/"):
                return self._api(request, path[len(API_PREFIX) :], query)
        except Exception:  # a bug must not kill the server thread; show it to the client
            return Response(500, traceback.format_exc().encode(), "text/plain")
        return Response(404, b"404 page not found\n", "text/plain")

    def _file(self, name: str) -> Response:
        """An async report's file behind a ``CSV_DOWNLOAD`` link (not counted in stats)."""
        body = self.api.tasks.files.get(name)
        if body is None:
            return Response(404, b"404 page not found\n", "text/plain")
        return Response(200, body, CSV_TYPE)

    # ----- API ------------------------------------------------------------------------------

    def _api(self, request: Request, endpoint: str, query: dict[str, str]) -> Response:
        started = time.monotonic()
        endpoint = endpoint if endpoint.endswith("/") else endpoint + "/"
        seq = self._next_seq()
        request_id = f"sim{seq:012d}"
        params: dict[str, Any] = dict(query) | _body_params(request)
        # TikTok counts a request against the app's QPS when it arrives.
        current_qps: float | None = self.limiter.admit(self.config.app_qps_limit)
        limit: float | None = self.config.app_qps_limit
        qps_fault = APP_QPS_FAULT
        if current_qps is None and endpoint.startswith(ASYNC_PREFIX):
            # The async report endpoints have their own, much lower, per-app limit.
            over = self.async_limiter.admit(requests_per_window(self.config.async_qps_limit))
            if over is not None:
                current_qps, qps_fault = round(over / ASYNC_WINDOW_S, 2), ASYNC_QPS_FAULT
                limit = self.config.async_qps_limit
        if self.faults.latency_ms:
            self.stopping.wait(self.faults.latency_ms / 1000)
        fault = None if current_qps is not None else self.faults.take(endpoint)
        if current_qps is not None:
            message = (
                f"App {self.config.app_id} reaches the QPS limit {limit}, "
                f"current QPS is {current_qps}."
            )
            response, outcome = self._envelope(40100, message, request_id), "40100"
        else:
            response, outcome = self._api_response(request, endpoint, params, request_id, fault)
        token = request.headers.get("access-token", "")
        self.stats.record(
            RequestRecord(
                seq=seq,
                method=request.method,
                endpoint=endpoint,
                params=masked_params(params),
                access_token=mask(token) if token else "",
                outcome=outcome,
                status=response.status,
                fault=qps_fault if current_qps is not None else (fault.kind if fault else ""),
                duration_ms=round((time.monotonic() - started) * 1000, 3),
                received_at=started,
            )
        )
        return response

    def _api_response(
        self,
        request: Request,
        endpoint: str,
        params: dict[str, Any],
        request_id: str,
        fault: Fault | None,
    ) -> tuple[Response, str]:
        if fault is not None:
            if fault.kind == "http_error":
                headers = {"Retry-After": "1"} if fault.status == 429 else {}
                page = HTTP_ERROR_PAGES.get(fault.status, str(fault.status))
                body = f"<html><body><h1>{page}</h1></body></html>\n".encode()
                return Response(fault.status, body, HTML_TYPE, headers), f"http_{fault.status}"
            if fault.kind == "rate_limit":
                message = RATE_LIMIT_MESSAGES[fault.code]
                return self._envelope(fault.code, message, request_id), str(fault.code)
            if fault.kind == "api_error":
                message = fault.message or "Internal service error. Please retry later."
                return self._envelope(fault.code, message, request_id), str(fault.code)
            if fault.kind == "slow":
                self.stopping.wait(fault.seconds)
            if fault.kind == "task_failed":
                self.api.tasks.fail(str(params.get("task_id", "")), fault.message)
        response, outcome = self._route(request, endpoint, params, request_id)
        if fault is not None and fault.kind == "malformed":
            return _malform(response, fault.variant), "malformed"
        if fault is not None and fault.kind == "drop_rows":
            return _drop_last_row(response), outcome
        return response, outcome

    def _route(
        self, request: Request, endpoint: str, params: dict[str, Any], request_id: str
    ) -> tuple[Response, str]:
        route = self.api.routes.get(endpoint)
        try:
            if route is None:
                raise ApiError(40002, f"Unknown endpoint {endpoint}.", http_status=404)
            if request.method != route.method:
                raise ApiError(
                    40002,
                    f"Method {request.method} is not allowed for {endpoint}; use {route.method}.",
                    http_status=405,
                )
            reply = self.api.call(route, Params(params), request.headers.get("access-token"))
        except ApiError as error:
            response = self._envelope(error.code, error.message, request_id)
            response.status = error.http_status
            if error.http_status == 405 and route is not None:
                response.headers["Allow"] = route.method
            return response, str(error.code)
        if reply.raw is not None:
            return Response(200, reply.raw, reply.content_type, dict(reply.headers)), "0"
        response = self._envelope(0, "OK", request_id, reply.data)
        response.headers.update(reply.headers)
        return response, "0"

    @staticmethod
    def _envelope(
        code: int, message: str, request_id: str, data: dict[str, Any] | None = None
    ) -> Response:
        body = {"code": code, "message": message, "request_id": request_id, "data": data or {}}
        return Response(200, dumps(body))

    # ----- consent page ---------------------------------------------------------------------

    def _portal(self, request: Request, path: str, query: dict[str, str]) -> Response:
        form = query
        if request.method == "POST":
            form = {k: v[-1] for k, v in parse_qs(request.body.decode()).items()}
        response = self._portal_response(request, path, form)
        outcome = {200: "page", 302: "redirect"}.get(response.status, f"http_{response.status}")
        record = RequestRecord(
            seq=self._next_seq(),
            method=request.method,
            endpoint=PORTAL_PATH,
            params=masked_params(form),
            access_token="",
            outcome=outcome,
            status=response.status,
            fault="",
            duration_ms=0.0,
        )
        self.stats.record(record)
        return response

    def _portal_response(self, request: Request, path: str, form: dict[str, str]) -> Response:
        app_id, state = form.get("app_id"), form.get("state", "")
        redirect_uri = form.get("redirect_uri")
        error = self.portal.check_request(app_id, redirect_uri)
        if error is not None:
            return Response(400, self.portal.error_page(error).encode(), HTML_TYPE)
        assert app_id is not None
        assert redirect_uri is not None
        if path == DECISION_PATH:
            if request.method != "POST":
                return Response(405, b"Use the form.\n", "text/plain", {"Allow": "POST"})
            if form.get("decision") != "authorize":
                return _redirect(self.portal.deny(redirect_uri, state))
            chosen = parse_qs(request.body.decode()).get("advertiser_ids", [])
            return _redirect(self.portal.approve(redirect_uri, state, chosen))
        if self.config.auto_approve or form.get("auto_approve") in ("1", "true"):
            return _redirect(self.portal.approve(redirect_uri, state, self.portal.default_grant()))
        return Response(200, self.portal.page(app_id, state, redirect_uri).encode(), HTML_TYPE)

    # ----- admin ----------------------------------------------------------------------------

    def _admin(self, method: str, path: str, query: dict[str, str], body: bytes) -> Response:
        status, result = self.admin.handle(
            method, path[len(ADMIN_PREFIX) :].strip("/"), query, body
        )
        return Response(status, dumps(result))


def _body_params(request: Request) -> dict[str, Any]:
    """A JSON object body (what TikTok documents), or a form body; anything else is ignored."""
    if not request.body:
        return {}
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return {k: v[-1] for k, v in parse_qs(request.body.decode(errors="replace")).items()}
    try:
        body = json.loads(request.body)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _redirect(location: str) -> Response:
    return Response(302, b"", "text/plain", {"Location": location})


def _drop_last_row(response: Response) -> Response:
    body = json.loads(response.body)
    rows = (body.get("data") or {}).get("list")
    if isinstance(rows, list) and rows:
        rows.pop()
        response.body = dumps(body)
    return response


def _malform(response: Response, variant: str) -> Response:
    if variant == "truncated":
        return Response(response.status, response.body[: max(1, len(response.body) // 2)])
    if variant == "disconnect":
        return Response(response.status, response.body, cut_after=len(response.body) // 2)
    if variant == "html":
        page = b"<html><head><title>Error</title></head><body>upstream error</body></html>\n"
        return Response(200, page, HTML_TYPE)
    return Response(200, b"upstream connect error or disconnect/reset before headers\n")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    app: App


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: clients reuse connections
    server: _Server

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        response = self.server.app.handle(Request(self.command, self.path, headers, body))
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if response.cut_after is None:
                self.wfile.write(response.body)
            else:
                self.wfile.write(response.body[: response.cut_after])
                self.close_connection = True
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeouts)
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the request log lives in ``Stats`` (with secrets masked)."""


class Simulator:
    """The TikTok API simulator on a real port. Use as a context manager or start()/stop()."""

    def __init__(self, config: SimConfig | None = None) -> None:
        self.config = config or SimConfig()
        self.app = App(self.config)
        self.dataset = self.app.dataset
        self.faults = self.app.faults
        self.stats = self.app.stats
        self.tokens = self.app.tokens
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Simulator:
        if self._server is not None:
            return self
        server = _Server((self.config.host, self.config.port), _Handler)
        server.app = self.app
        self._server = server
        self.app.stopping.clear()
        self.app.api_url = self.api_url
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            daemon=True,
            name=f"tiktok-sim-{self.port}",
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self.app.stopping.set()  # wakes sleeping latency/slow handlers
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the simulator is not running; call start() first")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self.config.host}:{self.port}"

    @property
    def api_url(self) -> str:
        return self.base_url + API_PREFIX

    @property
    def auth_url(self) -> str:
        return self.base_url + PORTAL_PATH

    @property
    def access_token(self) -> str:
        return self.config.access_token
