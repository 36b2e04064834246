"""Fixtures for the connect flow: settings pointing at a mocked TikTok, apps, a platform DB."""

from __future__ import annotations

import itertools
import secrets
from pathlib import Path
from typing import Any

import pytest

from dra_tiktok_ads.connect import ConnectApp, ConnectSettings
from dra_tiktok_ads.connect.saving import ConnectionSaver
from tests.connect.helpers import API, APP_SECRET, AUTH, REDIRECT, Browser, Clock


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
