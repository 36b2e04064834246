"""Security properties of the Flask app that the route tests do not reach on their own."""

from __future__ import annotations

import re
import threading
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import pytest

from dra_tiktok_ads.connect.pages import STATE_MISMATCH, STATE_REUSED
from dra_tiktok_ads.connect.states import OAuthStates
from tests.connect.helpers import ACCESS_TOKEN, AUTH_CODE, FIRST_ID, Clock, csrf_token, sign_in

SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{40,}$")


def test_session_cookie_is_secure_for_https_redirect_uris(make_browser, settings):
    https = replace(
        settings,
        redirect_uri="https://connect.example.com/oauth/tiktok/callback",
        allow_remote=True,
    )
    browser = make_browser(https)
    browser.host = "connect.example.com"
    cookie = browser.get("/oauth/tiktok").header("Set-Cookie")
    assert "; Secure" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_http_session_cookie_is_not_marked_secure(browser):
    assert "Secure" not in browser.get("/oauth/tiktok").header("Set-Cookie")


def test_the_cookie_holds_only_a_random_session_id(browser, tiktok):
    """Tokens and state stay on the server: the cookie is an opaque id, not signed data."""
    assert sign_in(browser).status == 303
    assert set(browser.cookies) == {"tiktok_connect_session"}
    value = browser.cookies["tiktok_connect_session"]
    assert SESSION_ID.match(value), value
    for response in browser.history:
        assert ACCESS_TOKEN not in response.header("Set-Cookie")
        assert AUTH_CODE not in response.header("Set-Cookie")


def test_an_unknown_session_id_is_not_adopted(browser):
    """A cookie planted by someone else does not become this browser's session."""
    browser.cookies["tiktok_connect_session"] = "planted-" + "x" * 40
    browser.get("/oauth/tiktok")
    assert browser.cookies["tiktok_connect_session"] != "planted-" + "x" * 40


def test_csrf_token_of_another_session_is_rejected(make_browser, tiktok, settings):
    attacker, victim = make_browser(), make_browser()
    sign_in(attacker)
    stolen = csrf_token(attacker.get("/oauth/tiktok/advertisers").body)
    sign_in(victim)
    page = victim.post(
        "/oauth/tiktok/advertisers", {"csrf_token": stolen, "advertiser_id": FIRST_ID}
    )
    assert page.status == 403
    assert "security token" in page.body
    assert not settings.token_store_dir.exists()


def test_every_response_carries_the_security_headers(browser):
    for path in ("/", "/oauth/tiktok", "/nowhere", "/static/connect.css"):
        response = browser.get(path)
        assert response.header("X-Frame-Options") == "DENY", path
        assert response.header("Referrer-Policy") == "no-referrer", path
        assert response.header("X-Content-Type-Options") == "nosniff", path
        assert "frame-ancestors 'none'" in response.header("Content-Security-Policy"), path


def test_loopback_address_that_is_not_a_trusted_name_is_refused(browser):
    browser.host = "127.0.0.2:8765"
    response = browser.get("/")
    assert response.status == 403
    assert "only answers on this computer" in response.body


def test_a_state_is_used_once_even_by_racing_callbacks():
    states = OAuthStates(600, now=Clock(), rng=lambda: "the-state")
    state = states.issue("browser-1")
    barrier = threading.Barrier(8)
    outcomes = []

    def consume() -> None:
        barrier.wait()
        outcomes.append(states.consume(state, "browser-1"))

    threads = [threading.Thread(target=consume) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count(None) == 1
    assert set(outcomes) - {None} == {STATE_REUSED}


def test_a_state_belongs_to_the_browser_it_was_issued_to():
    tokens = iter(["state-a", "state-b"])
    states = OAuthStates(600, now=Clock(), rng=lambda: next(tokens))
    state = states.issue("browser-1")
    assert states.consume(state, "browser-2") is STATE_MISMATCH
    assert states.consume(state, None) is STATE_MISMATCH
    assert states.consume(state, "browser-1") is None  # the owner can still use it


@pytest.mark.parametrize("path", ["/oauth/tiktok", "/"])
def test_state_is_not_issued_on_a_refused_host(browser, path):
    browser.host = "evil.example:8765"
    response = browser.get(path)
    assert response.status == 403
    assert "state" not in parse_qs(urlsplit(response.location).query)
    assert browser.cookies == {}
