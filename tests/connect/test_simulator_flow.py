"""The connect app against the simulator's consent page and OAuth endpoints (real HTTP)."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.connect.helpers import Browser
from tests.connect.simflow import consent
from tiktok_sim import SimConfig, Simulator


@pytest.fixture(scope="module")
def sim():
    with Simulator(SimConfig(advertisers=2, days=5)) as simulator:
        yield simulator


@pytest.fixture
def sim_settings(settings, sim):
    return replace(
        settings,
        app_id="sim-app-id",
        app_secret="sim-app-secret",
        auth_url=sim.auth_url,
        api_url=sim.api_url,
    )


def callback_path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def authorize(browser: Browser) -> str:
    response = browser.get("/oauth/tiktok")
    assert response.status == 302
    return response.location


def test_authorize_and_pick(make_browser, sim, sim_settings):
    browser = make_browser(sim_settings)
    callback = consent(sim, authorize(browser))
    assert browser.get(callback_path(callback)).status == 303
    picker = browser.get("/oauth/tiktok/advertisers")
    assert picker.body.count('type="checkbox"') == 2
    for advertiser in sim.dataset.advertisers:
        assert advertiser.advertiser_id in picker.body


def test_deny(make_browser, sim, sim_settings):
    browser = make_browser(sim_settings)
    page = browser.get(callback_path(consent(sim, authorize(browser), decision="deny")))
    assert page.status == 403
    assert "declined" in page.body


def test_no_advertiser_ticked(make_browser, sim, sim_settings):
    browser = make_browser(sim_settings)
    page = browser.get(callback_path(consent(sim, authorize(browser), ids=[])))
    assert page.status == 409


def test_code_used_twice(make_browser, sim, sim_settings):
    browser = make_browser(sim_settings)
    callback = consent(sim, authorize(browser))
    assert browser.get(callback_path(callback)).status == 303
    # The same code replayed with a fresh, valid state: TikTok refuses it.
    code = parse_qs(urlsplit(callback).query)["auth_code"][0]
    state = parse_qs(urlsplit(authorize(browser)).query)["state"][0]
    page = browser.get(f"/oauth/tiktok/callback?auth_code={code}&state={state}")
    assert page.status == 400
    assert "expired or was already used" in page.body


def test_wrong_app_secret(make_browser, sim, sim_settings):
    browser = make_browser(replace(sim_settings, app_secret="wrong-secret"))
    page = browser.get(callback_path(consent(sim, authorize(browser))))
    assert page.status == 502
    assert "TIKTOK_ADS_APP_SECRET" in page.body
    assert "wrong-secret" not in page.body
