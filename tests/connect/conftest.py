"""A tiny WSGI test client, a settable clock and settings pointing at a mocked TikTok."""

from __future__ import annotations

import io
import itertools
import secrets
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit
from wsgiref.util import setup_testing_defaults

import pytest

from tap_tiktok_ads.connect import ConnectApp, ConnectSettings
from tap_tiktok_ads.connect.saving import ConnectionSaver

API = "https://api.test/open_api/v1.3"
AUTH = "https://auth.test/portal/auth"
REDIRECT = "http://127.0.0.1:8765/oauth/tiktok/callback"
APP_SECRET = "app-secret-do-not-show"
ACCESS_TOKEN = "access-token-do-not-show"
REFRESH_TOKEN = "refresh-token-do-not-show"
AUTH_CODE = "auth-code-do-not-show"
SECRETS = (APP_SECRET, ACCESS_TOKEN, REFRESH_TOKEN, AUTH_CODE)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: str

    def header(self, name: str) -> str:
        return next((v for k, v in self.headers if k.lower() == name.lower()), "")

    @property
    def location(self) -> str:
        return self.header("Location")


@dataclass
class Browser:
    """Calls the WSGI app like a browser on 127.0.0.1: keeps cookies, records every page."""

    app: ConnectApp
    host: str = "127.0.0.1:8765"
    remote_addr: str = "127.0.0.1"
    script_name: str = ""  # a WSGI mount point, as a server strips it from the path
    cookies: dict[str, str] = field(default_factory=dict)
    history: list[Response] = field(default_factory=list)

    def request(self, method: str, url: str, form: dict[str, Any] | None = None) -> Response:
        parts = urlsplit(url)
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method,
            "SCRIPT_NAME": self.script_name,
            "PATH_INFO": parts.path or "/",
            "QUERY_STRING": parts.query,
            "HTTP_HOST": self.host,
            "REMOTE_ADDR": self.remote_addr,
        }
        if self.cookies:
            environ["HTTP_COOKIE"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = b""
        if form is not None:
            body = urlencode(form, doseq=True).encode()
            environ["CONTENT_TYPE"] = "application/x-www-form-urlencoded"
            environ["CONTENT_LENGTH"] = str(len(body))
        environ["wsgi.input"] = io.BytesIO(body)
        setup_testing_defaults(environ)
        captured: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info=None):
            captured["status"] = int(status.split(maxsplit=1)[0])
            captured["headers"] = headers

        chunks = self.app(environ, start_response)
        text = b"".join(chunks).decode()
        response = Response(captured["status"], captured["headers"], text)
        for name, value in response.headers:
            if name.lower() == "set-cookie":
                jar = SimpleCookie(value)
                for key, morsel in jar.items():
                    self.cookies[key] = morsel.value
        self.history.append(response)
        return response

    def get(self, url: str) -> Response:
        return self.request("GET", url)

    def post(self, url: str, form: dict[str, Any]) -> Response:
        return self.request("POST", url, form)

    def start_flow(self) -> str:
        """GET /oauth/tiktok; returns the state put in TikTok's URL."""
        response = self.get("/oauth/tiktok")
        assert response.status == 302
        return parse_qs(urlsplit(response.location).query)["state"][0]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(tmp_path: Path) -> ConnectSettings:
    return ConnectSettings(
        app_id="test-app-id",
        app_secret=APP_SECRET,
        redirect_uri=REDIRECT,
        auth_url=AUTH,
        api_url=API,
        token_store_path=tmp_path / "secrets" / "tokens.json",
        env_file=tmp_path / ".env",
    )


@pytest.fixture
def make_browser(settings: ConnectSettings, clock: Clock):
    counter = itertools.count()

    def rng() -> str:
        return f"token{next(counter):04d}-" + "x" * 20

    def make(app_settings: ConnectSettings | None = None, **kwargs: Any) -> Browser:
        # Hermetic: a PGHOST/ENCRYPTION_KEY in the outer environment must not reach a database.
        kwargs.setdefault("saver", ConnectionSaver(environ={}))
        app = ConnectApp(app_settings or settings, now=clock, rng=rng, **kwargs)
        return Browser(app)

    return make


@pytest.fixture
def browser(make_browser) -> Browser:
    return make_browser()


@pytest.fixture
def platform_env(fresh_database, monkeypatch) -> dict[str, str]:
    """A configured platform: PG* pointing at a fresh database and an ENCRYPTION_KEY."""
    key = secrets.token_hex(32)
    for name, value in fresh_database.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ENCRYPTION_KEY", key)
    return fresh_database | {"ENCRYPTION_KEY": key}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
