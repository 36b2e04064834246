"""Test helpers for the connect flow: a tiny WSGI browser, a settable clock, secrets to look for."""

from __future__ import annotations

import io
import re
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit
from wsgiref.util import setup_testing_defaults

from flask import Flask

API = "https://api.test/open_api/v1.3"
AUTH = "https://auth.test/portal/auth"
REDIRECT = "http://127.0.0.1:8765/oauth/tiktok/callback"
APP_SECRET = "app-secret-do-not-show"
ACCESS_TOKEN = "access-token-do-not-show"
REFRESH_TOKEN = "refresh-token-do-not-show"
AUTH_CODE = "auth-code-do-not-show"
SECRETS = (APP_SECRET, ACCESS_TOKEN, REFRESH_TOKEN, AUTH_CODE)

# The ids of advertiser_rows(): 7000...000, 7000...001, ...
FIRST_ID = "7" + "0" * 18
SECOND_ID = "7" + "0" * 17 + "1"

EXCHANGE = f"{API}/oauth2/access_token/"
ADVERTISER_GET = f"{API}/oauth2/advertiser/get/"
ADVERTISER_INFO = f"{API}/advertiser/info/"


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

    app: Flask
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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def envelope(data=None, code=0, message="OK"):
    return {"code": code, "message": message, "request_id": "req-123", "data": data or {}}


def advertiser_rows(count: int) -> list[dict[str, str]]:
    return [
        {"advertiser_id": f"7{i:018d}", "advertiser_name": f"Shop <{i}> & Co"} for i in range(count)
    ]


def sign_in(browser: Browser, code_param: str = "auth_code"):
    state = browser.start_flow()
    return browser.get(f"/oauth/tiktok/callback?{code_param}={AUTH_CODE}&state={state}")


def csrf_token(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, page
    return match.group(1)


def save_advertisers(browser: Browser, *advertiser_ids: str) -> Response:
    """Sign in, tick ``advertiser_ids`` on the picker and save; the save's redirect."""
    sign_in(browser)
    picker = browser.get("/oauth/tiktok/advertisers")
    response = browser.post(
        "/oauth/tiktok/advertisers",
        {"csrf_token": csrf_token(picker.body), "advertiser_id": list(advertiser_ids)},
    )
    assert response.status == 303, response.body
    return response


def assert_no_secrets(browser: Browser) -> None:
    for response in browser.history:
        for secret in SECRETS:
            assert secret not in response.body
            assert secret not in response.location
            assert all(secret not in value for _, value in response.headers)
