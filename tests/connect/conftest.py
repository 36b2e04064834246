"""Fixtures for the connect flow: settings pointing at a mocked TikTok, apps, a platform DB."""

from __future__ import annotations

import itertools
import json
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests_mock as rm

from dra_tiktok_ads.connect import ConnectSettings, create_app
from dra_tiktok_ads.connect.saving import ConnectionSaver
from tests.connect.helpers import (
    ACCESS_TOKEN,
    ADVERTISER_GET,
    ADVERTISER_INFO,
    API,
    APP_SECRET,
    AUTH,
    EXCHANGE,
    REDIRECT,
    Browser,
    Clock,
    advertiser_rows,
    envelope,
)


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
        token_store_dir=tmp_path / "secrets" / "tiktok",
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
        app = create_app(app_settings or settings, now=clock, rng=rng, **kwargs)
        return Browser(app)

    return make


@pytest.fixture
def browser(make_browser: Callable[..., Browser]) -> Browser:
    return make_browser()


@pytest.fixture
def platform_env(fresh_database: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A configured platform: PG* pointing at a fresh database and an ENCRYPTION_KEY."""
    key = secrets.token_hex(32)
    for name, value in fresh_database.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ENCRYPTION_KEY", key)
    return fresh_database | {"ENCRYPTION_KEY": key}


@pytest.fixture
def tiktok():
    """TikTok mocked: a successful exchange with two advertisers unless a test changes it."""
    with rm.Mocker() as mocker:
        mocker.exchange = mocker.post(
            EXCHANGE,
            json=envelope({"access_token": ACCESS_TOKEN, "advertiser_ids": [], "scope": [1, 4]}),
        )
        mocker.advertisers = mocker.get(ADVERTISER_GET, json=envelope({"list": advertiser_rows(2)}))

        def info(request, context):
            ids = json.loads(parse_qs(urlsplit(request.url).query)["advertiser_ids"][0])
            assert len(ids) <= 100
            return envelope(
                {
                    "list": [
                        {
                            "advertiser_id": i,
                            "name": f"Advertiser {i[-3:]}",
                            "currency": "EUR",
                            "timezone": "Europe/Berlin",
                            "display_timezone": "Europe/Berlin",
                        }
                        for i in ids
                    ]
                }
            )

        mocker.info = mocker.get(ADVERTISER_INFO, json=info)
        yield mocker
