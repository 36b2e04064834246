"""Every branch of the connect flow, driven through the WSGI app with TikTok mocked."""

from __future__ import annotations

import json
import re
import stat
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest
import requests

from dra_tiktok_ads import crypto
from dra_tiktok_ads.connect.saving import ConnectionSaver, SaveError, SaveResult
from tap_tiktok_ads.auth import TokenStore
from tests.connect.helpers import (
    ACCESS_TOKEN,
    ADVERTISER_GET,
    ADVERTISER_INFO,
    API,
    APP_SECRET,
    AUTH,
    AUTH_CODE,
    EXCHANGE,
    FIRST_ID,
    REDIRECT,
    REFRESH_TOKEN,
    SECOND_ID,
    advertiser_rows,
    assert_no_secrets,
    csrf_token,
    envelope,
    save_advertisers,
    sign_in,
)

# --- start page, static files, authorize -------------------------------------------------


def test_start_page_has_card_logo_and_link(browser):
    page = browser.get("/")
    assert page.status == 200
    assert "Connect TikTok Ads" in page.body
    assert 'href="/oauth/tiktok"' in page.body
    assert 'src="/static/tiktok-logo.svg"' in page.body
    assert "default-src 'none'" in page.header("Content-Security-Policy")
    logo = browser.get("/static/tiktok-logo.svg")
    assert logo.status == 200
    assert logo.header("Content-Type").split(";")[0] == "image/svg+xml"
    assert logo.body.lstrip().startswith("<svg")
    assert browser.get("/static/connect.css").status == 200
    assert browser.get("/static/../app.py").status == 404
    assert browser.get("/nowhere").status == 404
    assert browser.post("/", {}).status == 405


def test_authorize_redirects_to_tiktok_with_state_bound_to_a_cookie(browser):
    response = browser.get("/oauth/tiktok")
    assert response.status == 302
    url = urlsplit(response.location)
    assert f"{url.scheme}://{url.netloc}{url.path}" == AUTH
    query = parse_qs(url.query)
    assert query["app_id"] == ["test-app-id"]
    assert query["redirect_uri"] == [REDIRECT]
    assert query["scope"][0]
    assert len(query["state"][0]) >= 20
    cookie = response.header("Set-Cookie")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert query["state"][0] not in cookie
    assert_no_secrets(browser)


def test_each_authorize_gets_a_fresh_state(browser):
    assert browser.start_flow() != browser.start_flow()


def test_request_parameters_cannot_change_the_redirect_targets(browser, tiktok):
    response = browser.get("/oauth/tiktok?redirect_uri=https://evil.test/&next=https://evil.test")
    assert parse_qs(urlsplit(response.location).query)["redirect_uri"] == [REDIRECT]
    state = parse_qs(urlsplit(response.location).query)["state"][0]
    callback = browser.get(
        f"/oauth/tiktok/callback?auth_code={AUTH_CODE}&state={state}&next=https://evil.test"
    )
    assert callback.status == 303
    assert callback.location == "/oauth/tiktok/advertisers"


def test_other_host_name_is_sent_to_the_redirect_uri_origin(browser):
    browser.host = "localhost:8765"
    response = browser.get("/oauth/tiktok")
    assert response.status == 302
    assert response.location == "http://127.0.0.1:8765/oauth/tiktok"


@pytest.mark.parametrize(
    ("host", "remote_addr"),
    [("127.0.0.1:8765", "192.168.1.20"), ("attacker.example:8765", "127.0.0.1")],
)
def test_only_loopback_clients_and_hosts_are_served(browser, host, remote_addr):
    browser.host, browser.remote_addr = host, remote_addr
    for path in ("/", "/oauth/tiktok", "/oauth/tiktok/callback?state=x&auth_code=y"):
        response = browser.get(path)
        assert response.status == 403
        assert "only answers on this computer" in response.body


def test_allow_remote_serves_other_clients(make_browser, settings):
    remote = replace(settings, allow_remote=True)
    browser = make_browser(remote)
    browser.host, browser.remote_addr = "connect.example.com", "10.0.0.5"
    assert browser.get("/").status == 200


# --- state (CSRF) checks: never a token request ---------------------------------------------


def test_missing_state_is_rejected(browser, tiktok):
    browser.start_flow()
    page = browser.get(f"/oauth/tiktok/callback?auth_code={AUTH_CODE}")
    assert page.status == 400
    assert "no security check" in page.body
    assert tiktok.call_count == 0


def test_wrong_state_is_rejected(browser, tiktok):
    browser.start_flow()
    page = browser.get(f"/oauth/tiktok/callback?auth_code={AUTH_CODE}&state=forged")
    assert page.status == 400
    assert "does not belong to a sign-in started in this browser" in page.body
    assert tiktok.call_count == 0


def test_state_from_another_browser_is_rejected(make_browser, tiktok):
    victim, attacker = make_browser(), make_browser()
    state = attacker.start_flow()
    page = victim.get(f"/oauth/tiktok/callback?auth_code={AUTH_CODE}&state={state}")
    assert page.status == 400
    assert tiktok.call_count == 0


def test_reused_state_is_rejected(browser, tiktok):
    state = browser.start_flow()
    first = browser.get(f"/oauth/tiktok/callback?auth_code={AUTH_CODE}&state={state}")
    assert first.status == 303
    calls = tiktok.call_count
    again = browser.get(f"/oauth/tiktok/callback?auth_code={AUTH_CODE}&state={state}")
    assert again.status == 400
    assert "already used" in again.body
    assert tiktok.call_count == calls


def test_expired_state_is_rejected(browser, tiktok, clock):
    state = browser.start_flow()
    clock.advance(minutes=11)
    page = browser.get(f"/oauth/tiktok/callback?auth_code={AUTH_CODE}&state={state}")
    assert page.status == 400
    assert "expired" in page.body
    assert tiktok.call_count == 0


def test_state_just_within_its_lifetime_is_accepted(browser, tiktok, clock):
    state = browser.start_flow()
    clock.advance(minutes=9)
    page = browser.get(f"/oauth/tiktok/callback?auth_code={AUTH_CODE}&state={state}")
    assert page.status == 303


# --- consent and exchange errors ------------------------------------------------------------


def test_denied_consent_explains_what_to_do(browser, tiktok):
    state = browser.start_flow()
    page = browser.get(f"/oauth/tiktok/callback?error=access_denied&state={state}")
    assert page.status == 403
    assert "declined" in page.body
    assert "Authorize" in page.body
    assert tiktok.call_count == 0


def test_denied_consent_without_state_still_explains(browser, tiktok):
    page = browser.get("/oauth/tiktok/callback?error=access_denied")
    assert page.status == 403
    assert "declined" in page.body
    assert tiktok.call_count == 0


def test_redirect_uri_error_from_tiktok_names_the_uri(browser, tiktok):
    state = browser.start_flow()
    page = browser.get(f"/oauth/tiktok/callback?error=redirect_uri_mismatch&state={state}")
    assert page.status == 400
    assert REDIRECT in page.body
    assert "TIKTOK_ADS_REDIRECT_URI" in page.body


def test_callback_without_code_is_rejected(browser, tiktok):
    state = browser.start_flow()
    page = browser.get(f"/oauth/tiktok/callback?state={state}")
    assert page.status == 400
    assert "without an authorization code" in page.body
    assert tiktok.call_count == 0


@pytest.mark.parametrize(
    "case",
    [
        (
            40002,
            "auth_code is invalid, expired or already used; authorize again.",
            400,
            "expired or was already used",
        ),
        (40001, "The app_id or secret is invalid.", 502, "TIKTOK_ADS_APP_SECRET"),
        (
            40002,
            "redirect_uri does not match the registered one",
            400,
            "Redirect URI does not match",
        ),
        (50000, "System error", 502, "req-123"),
    ],
)
def test_exchange_errors_are_actionable(browser, tiktok, case):
    code, message, status, expected = case
    tiktok.post(EXCHANGE, json=envelope(code=code, message=message))
    page = sign_in(browser)
    assert page.status == status
    assert expected in page.body
    assert tiktok.advertisers.call_count == 0
    assert_no_secrets(browser)


def test_error_messages_echoing_a_secret_are_scrubbed(browser, tiktok):
    tiktok.post(EXCHANGE, json=envelope(code=50000, message=f"boom {AUTH_CODE} {APP_SECRET}"))
    page = sign_in(browser)
    assert "[hidden]" in page.body
    assert_no_secrets(browser)


def test_unreachable_tiktok(browser, tiktok):
    tiktok.post(EXCHANGE, exc=requests.ConnectionError(f"{EXCHANGE}?secret={APP_SECRET}"))
    page = sign_in(browser)
    assert page.status == 502
    assert "TIKTOK_ADS_API_URL" in page.body
    assert_no_secrets(browser)


def test_wrong_credentials_when_listing_advertisers(browser, tiktok):
    tiktok.get(
        ADVERTISER_GET, json=envelope(code=40001, message="The app_id or secret is invalid.")
    )
    page = sign_in(browser)
    assert page.status == 502
    assert "TIKTOK_ADS_APP_ID" in page.body


def test_code_parameter_is_accepted_as_well(browser, tiktok):
    response = sign_in(browser, code_param="code")
    assert response.status == 303
    assert tiktok.exchange.last_request.json() == {
        "app_id": "test-app-id",
        "secret": APP_SECRET,
        "auth_code": AUTH_CODE,
    }


def test_session_id_changes_after_sign_in(browser, tiktok):
    browser.start_flow()
    before = dict(browser.cookies)
    state = browser.start_flow()
    browser.get(f"/oauth/tiktok/callback?auth_code={AUTH_CODE}&state={state}")
    assert browser.cookies != before


# --- advertisers: zero, one, many ---------------------------------------------------------


def test_zero_advertisers(browser, tiktok):
    tiktok.get(ADVERTISER_GET, json=envelope({"list": []}))
    page = sign_in(browser)
    assert page.status == 409
    assert "no advertiser account was authorized" in page.body
    assert "Business Center" in page.body


def test_one_advertiser_is_preselected_and_saved(browser, tiktok, settings):
    tiktok.get(ADVERTISER_GET, json=envelope({"list": advertiser_rows(1)}))
    assert sign_in(browser).status == 303
    picker = browser.get("/oauth/tiktok/advertisers")
    assert picker.status == 200
    assert picker.body.count('type="checkbox"') == 1
    assert " checked" in picker.body
    assert "EUR" in picker.body
    assert "Europe/Berlin" in picker.body
    saved = browser.post(
        "/oauth/tiktok/advertisers",
        {"csrf_token": csrf_token(picker.body), "advertiser_id": FIRST_ID},
    )
    assert saved.status == 303
    done = browser.get(saved.location)
    assert done.status == 200
    assert "Connected 1 advertiser" in done.body
    stored = TokenStore(settings.token_store_path(FIRST_ID)).load()
    assert stored is not None
    assert stored.access_token == ACCESS_TOKEN
    assert stored.advertiser_ids == [FIRST_ID]
    assert stored.refresh_token is None
    assert stored.token_expires_at is None
    assert_no_secrets(browser)


def test_many_advertisers_are_listed_escaped_and_a_subset_saved(browser, tiktok, settings):
    rows = advertiser_rows(150)
    tiktok.get(ADVERTISER_GET, json=envelope({"list": rows}))
    sign_in(browser)
    picker = browser.get("/oauth/tiktok/advertisers")
    assert picker.body.count('type="checkbox"') == 150
    assert " checked" not in picker.body
    assert tiktok.info.call_count == 2  # 100 + 50: at most 100 ids per advertiser/info call
    chosen = [rows[3]["advertiser_id"], rows[120]["advertiser_id"]]
    saved = browser.post(
        "/oauth/tiktok/advertisers",
        {"csrf_token": csrf_token(picker.body), "advertiser_id": chosen},
    )
    assert saved.status == 303
    # One store per chosen advertiser, each holding that advertiser only.
    assert sorted(p.name for p in settings.token_store_dir.iterdir()) == sorted(
        f"{advertiser_id}.json" for advertiser_id in chosen
    )
    for advertiser_id in chosen:
        stored = TokenStore(settings.token_store_path(advertiser_id)).load()
        assert stored is not None
        assert stored.advertiser_ids == [advertiser_id]


def test_names_are_html_escaped(browser, tiktok):
    tiktok.get(ADVERTISER_INFO, json=envelope(code=40001, message="no permission"))
    tiktok.get(
        ADVERTISER_GET,
        json=envelope({"list": [{"advertiser_id": "1", "advertiser_name": "<script>x</script>"}]}),
    )
    sign_in(browser)
    picker = browser.get("/oauth/tiktok/advertisers")
    assert picker.status == 200  # details are optional: names from advertiser/get suffice
    assert "<script>" not in picker.body
    assert "&lt;script&gt;x&lt;/script&gt;" in picker.body


def test_picker_shows_the_reporting_time_zone_not_the_display_one(browser, tiktok):
    """Report days follow `timezone`; `display_timezone` may be an hour apart."""
    tiktok.get(
        ADVERTISER_INFO,
        json=envelope(
            {
                "list": [
                    {
                        "advertiser_id": row["advertiser_id"],
                        "name": "Shop",
                        "currency": "USD",
                        "timezone": "Etc/GMT+8",
                        "display_timezone": "America/Los_Angeles",
                    }
                    for row in advertiser_rows(2)
                ]
            }
        ),
    )
    sign_in(browser)
    picker = browser.get("/oauth/tiktok/advertisers").body
    assert picker.count("<td>Etc/GMT+8</td>") == 2
    assert "America/Los_Angeles" not in picker


def test_advertisers_only_in_the_exchange_answer_are_listed(browser, tiktok):
    tiktok.post(EXCHANGE, json=envelope({"access_token": ACCESS_TOKEN, "advertiser_ids": ["555"]}))
    tiktok.get(ADVERTISER_GET, json=envelope({"list": []}))
    sign_in(browser)
    assert "555" in browser.get("/oauth/tiktok/advertisers").body


# --- the picker form ------------------------------------------------------------------------


def test_saving_nothing_asks_again(browser, tiktok, settings):
    sign_in(browser)
    picker = browser.get("/oauth/tiktok/advertisers")
    page = browser.post("/oauth/tiktok/advertisers", {"csrf_token": csrf_token(picker.body)})
    assert page.status == 400
    assert "Choose at least one advertiser" in page.body
    assert not settings.token_store_dir.exists()


def test_forged_form_is_rejected(browser, tiktok, settings):
    sign_in(browser)
    page = browser.post(
        "/oauth/tiktok/advertisers", {"csrf_token": "guess", "advertiser_id": FIRST_ID}
    )
    assert page.status == 403
    assert not settings.token_store_dir.exists()


def test_unknown_advertiser_is_rejected(browser, tiktok, settings):
    sign_in(browser)
    picker = browser.get("/oauth/tiktok/advertisers")
    page = browser.post(
        "/oauth/tiktok/advertisers",
        {"csrf_token": csrf_token(picker.body), "advertiser_id": "999"},
    )
    assert page.status == 400
    assert not settings.token_store_dir.exists()


def test_picker_without_sign_in(browser):
    assert browser.get("/oauth/tiktok/advertisers").status == 400
    assert browser.post("/oauth/tiktok/advertisers", {"csrf_token": "x"}).status == 400
    assert browser.get("/oauth/tiktok/done").status == 400


def test_form_cannot_be_replayed_after_saving(browser, tiktok):
    sign_in(browser)
    picker = browser.get("/oauth/tiktok/advertisers")
    form = {"csrf_token": csrf_token(picker.body), "advertiser_id": FIRST_ID}
    assert browser.post("/oauth/tiktok/advertisers", form).status == 303
    assert browser.post("/oauth/tiktok/advertisers", form).status == 400
    assert browser.get("/oauth/tiktok/advertisers").location == "/oauth/tiktok/done"


def test_session_expires(browser, tiktok, clock):
    sign_in(browser)
    clock.advance(minutes=31)
    assert browser.get("/oauth/tiktok/advertisers").status == 400


def test_save_failure_is_shown_without_secrets(make_browser, tiktok):
    def failing_saver(settings, tokens, advertisers):
        raise SaveError(f"cannot write /nope ({tokens.access_token})")

    browser = make_browser(saver=failing_saver)
    sign_in(browser)
    picker = browser.get("/oauth/tiktok/advertisers")
    page = browser.post(
        "/oauth/tiktok/advertisers",
        {"csrf_token": csrf_token(picker.body), "advertiser_id": FIRST_ID},
    )
    assert page.status == 500
    assert "cannot write /nope" in page.body
    assert_no_secrets(browser)


# --- what is saved --------------------------------------------------------------------------


def test_refresh_token_and_expiry_are_saved(browser, tiktok, settings, clock):
    tiktok.post(
        EXCHANGE,
        json=envelope(
            {
                "access_token": ACCESS_TOKEN,
                "refresh_token": REFRESH_TOKEN,
                "access_token_expire_in": 86400,
                "advertiser_ids": [],
            }
        ),
    )
    save_advertisers(browser, FIRST_ID)
    raw = json.loads(settings.token_store_path(FIRST_ID).read_text())
    assert set(raw) == {
        "access_token",
        "refresh_token",
        "token_expires_at",
        "advertiser_ids",
        "updated_at",
    }
    assert raw["refresh_token"] == REFRESH_TOKEN
    assert raw["token_expires_at"] == "2026-11-21T12:00:00+00:00"
    assert stat.S_IMODE(settings.token_store_path(FIRST_ID).stat().st_mode) == 0o600
    env = settings.env_file.read_text()
    assert "TAP_TIKTOK_ADS_APP_SECRET=" in env  # needed to renew rotating tokens
    assert ACCESS_TOKEN not in env
    assert REFRESH_TOKEN not in env
    assert_no_secrets(browser)


def test_env_file_holds_only_settings_every_tenant_shares(browser, tiktok, settings):
    settings.env_file.write_text(
        "# mine\nPGHOST=db\nTAP_TIKTOK_ADS_START_DATE=2026-01-01\n"
        'TAP_TIKTOK_ADS_ADVERTISER_IDS=\'["1","2"]\'\n'
        "TAP_TIKTOK_ADS_TOKEN_STORE_PATH='.secrets/tiktok_tokens.json'\n"
    )
    save_advertisers(browser, FIRST_ID)
    env = settings.env_file.read_text().splitlines()
    assert env[:3] == ["# mine", "PGHOST=db", "TAP_TIKTOK_ADS_START_DATE=2026-01-01"]
    # No tenant in .env (a line there would load one tenant's data under every data
    # source): the tap is pointed at one advertiser's store per run, as the done page says.
    assert not any(line.startswith("TAP_TIKTOK_ADS_ADVERTISER_IDS") for line in env)
    assert not any(line.startswith("TAP_TIKTOK_ADS_TOKEN_STORE_PATH") for line in env)
    done = browser.get("/oauth/tiktok/done").body
    assert f"TAP_TIKTOK_ADS_TOKEN_STORE_PATH={settings.token_store_path(FIRST_ID)} " in done
    assert f"TAP_TIKTOK_ADS_API_URL='{API}'" in env
    assert "TAP_TIKTOK_ADS_APP_ID='test-app-id'" in env
    assert not any(line.startswith("TAP_TIKTOK_ADS_APP_SECRET") for line in env)
    assert not any(line.startswith("TAP_TIKTOK_ADS_ACCESS_TOKEN") for line in env)
    assert stat.S_IMODE(settings.env_file.stat().st_mode) == 0o600


def test_reconnecting_updates_instead_of_duplicating(make_browser, tiktok, settings):
    save_advertisers(make_browser(), FIRST_ID)
    tiktok.post(EXCHANGE, json=envelope({"access_token": "second-token", "advertiser_ids": []}))
    save_advertisers(make_browser(), FIRST_ID)
    stored = TokenStore(settings.token_store_path(FIRST_ID)).load()
    assert stored is not None
    assert stored.access_token == "second-token"
    assert stored.advertiser_ids == [FIRST_ID]
    assert [p.name for p in settings.token_store_dir.iterdir()] == [f"{FIRST_ID}.json"]
    env = settings.env_file.read_text().splitlines()
    for key in ("APP_ID", "API_URL"):
        assert sum(line.startswith(f"TAP_TIKTOK_ADS_{key}=") for line in env) == 1


def test_done_page_says_where_it_saved(browser, tiktok, settings):
    save_advertisers(browser, FIRST_ID)
    done = browser.get("/oauth/tiktok/done")
    assert str(settings.token_store_path(FIRST_ID)) in done.body
    assert str(settings.env_file) in done.body
    assert "no platform database configured" in done.body
    assert_no_secrets(browser)


def test_on_saved_is_called(make_browser, tiktok, settings):
    results: list[SaveResult] = []
    save_advertisers(make_browser(on_saved=results.append), FIRST_ID)
    assert [a.token_store_path for r in results for a in r.advertisers] == [
        settings.token_store_path(FIRST_ID)
    ]


def test_reconnect_registers_each_advertiser_once(make_browser, tiktok, settings, platform_env):
    def connect(token: str) -> None:
        tiktok.post(EXCHANGE, json=envelope({"access_token": token, "advertiser_ids": []}))
        browser = make_browser(saver=ConnectionSaver(environ=platform_env))
        sign_in(browser)
        picker = browser.get("/oauth/tiktok/advertisers")
        ids = re.findall(r'name="advertiser_id" value="(\d+)"', picker.body)
        response = browser.post(
            "/oauth/tiktok/advertisers",
            {"csrf_token": csrf_token(picker.body), "advertiser_id": ids},
        )
        assert response.status == 303, response.body
        done = browser.get("/oauth/tiktok/done")
        assert "data source" in done.body
        assert_no_secrets(browser)

    connect("token-one")
    connect("token-two")
    with psycopg.connect("", autocommit=True) as conn:
        found = conn.execute(
            "SELECT sync_config ->> 'advertiser_id', connection_details FROM dra_data_sources"
        ).fetchall()
    assert sorted(r[0] for r in found) == [FIRST_ID, SECOND_ID]
    for _, envelope_ in found:
        details = crypto.decrypt_details(envelope_, platform_env["ENCRYPTION_KEY"])
        assert details["access_token"] == "token-two"


def test_consent_without_any_advertiser_ticked(browser, tiktok):
    state = browser.start_flow()
    page = browser.get(
        "/oauth/tiktok/callback?error=invalid_request"
        f"&error_description=No+advertiser+selected.&state={state}"
    )
    assert page.status == 409
    assert "no advertiser account was authorized" in page.body
    assert tiktok.call_count == 0


def test_app_mounted_under_a_prefix(make_browser, settings, tiktok):
    mounted = replace(settings, redirect_uri="http://127.0.0.1:8765/connect/oauth/tiktok/callback")
    browser = make_browser(mounted)
    browser.script_name = "/connect"
    start = browser.get("/")
    assert 'href="/connect/oauth/tiktok"' in start.body
    assert 'src="/connect/static/tiktok-logo.svg"' in start.body
    authorize = browser.get("/oauth/tiktok")
    assert "Path=/connect;" in authorize.header("Set-Cookie")
    state = parse_qs(urlsplit(authorize.location).query)["state"][0]
    callback = browser.get(f"/oauth/tiktok/callback?auth_code={AUTH_CODE}&state={state}")
    assert callback.location == "/connect/oauth/tiktok/advertisers"
