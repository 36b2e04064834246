"""OAuth: consent page, auth codes, token exchange, authorized advertisers, rotating refresh."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import requests

REDIRECT = "http://127.0.0.1:9/callback?keep=1"


def _consent(sim, **params):
    query = {"app_id": sim.config.app_id, "state": "st-1", "redirect_uri": REDIRECT} | params
    return requests.get(sim.auth_url, params=query, allow_redirects=False, timeout=5)


def _decide(sim, decision, advertiser_ids=None):
    form = {
        "app_id": sim.config.app_id,
        "state": "st-1",
        "redirect_uri": REDIRECT,
        "decision": decision,
        "advertiser_ids": sim.dataset.advertiser_ids if advertiser_ids is None else advertiser_ids,
    }
    response = requests.post(
        sim.base_url + "/portal/auth/decision", data=form, allow_redirects=False, timeout=5
    )
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    return location, {k: v[0] for k, v in parse_qs(location.query).items()}


def _exchange(sim, code, **overrides):
    body = {"app_id": sim.config.app_id, "secret": sim.config.app_secret, "auth_code": code}
    return requests.post(
        sim.api_url + "/oauth2/access_token/", json=body | overrides, timeout=5
    ).json()


def _refresh(sim, refresh_token):
    body = {
        "app_id": sim.config.app_id,
        "secret": sim.config.app_secret,
        "refresh_token": refresh_token,
        "grant_type": "refresh_token",
    }
    return requests.post(sim.api_url + "/oauth2/refresh_token/", json=body, timeout=5).json()


def test_consent_page_has_stable_buttons(sim):
    response = _consent(sim)
    assert response.status_code == 200
    assert 'id="authorize"' in response.text
    assert 'id="deny"' in response.text
    for advertiser_id in sim.dataset.advertiser_ids:
        assert f'id="advertiser-{advertiser_id}"' in response.text


def test_consent_page_rejects_unknown_app(sim):
    assert _consent(sim, app_id="other").status_code == 400
    assert _consent(sim, redirect_uri="").status_code == 400


def test_authorize_redirects_with_code_and_state(sim):
    location, params = _decide(sim, "authorize")
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT.partition("?")[0]
    assert params["state"] == "st-1"
    assert params["keep"] == "1"
    assert params["auth_code"]


def test_deny_redirects_with_an_error(sim):
    _, params = _decide(sim, "deny")
    assert params["error"] == "access_denied"
    assert params["state"] == "st-1"
    assert "auth_code" not in params


def test_auto_approve_flag_redirects_at_once(sim):
    response = _consent(sim, auto_approve="1")
    assert response.status_code == 302
    assert "auth_code=" in response.headers["Location"]


def test_auto_approve_config(make_sim):
    sim = make_sim(auto_approve=True)
    assert _consent(sim).status_code == 302


def test_code_exchange_and_authorized_advertisers(sim, client_for):
    _, params = _decide(sim, "authorize")
    body = _exchange(sim, params["auth_code"])
    assert body["code"] == 0, body
    data = body["data"]
    assert sorted(data["advertiser_ids"]) == sorted(sim.dataset.advertiser_ids)
    assert data["scope"]
    assert "refresh_token" not in data  # long-lived tokens by default
    api = client_for(sim, token=data["access_token"])
    listed = api.data(
        "/oauth2/advertiser/get/", app_id=sim.config.app_id, secret=sim.config.app_secret
    )["list"]
    assert [a["advertiser_id"] for a in listed] == sim.dataset.advertiser_ids
    assert all(a["advertiser_name"] for a in listed)


def test_auth_codes_are_single_use(sim):
    _, params = _decide(sim, "authorize")
    assert _exchange(sim, params["auth_code"])["code"] == 0
    again = _exchange(sim, params["auth_code"])
    assert again["code"] == 40002
    assert "auth_code" in again["message"]


def test_auth_codes_expire(make_sim):
    sim = make_sim(auth_code_lifetime_s=0)
    _, params = _decide(sim, "authorize")
    assert _exchange(sim, params["auth_code"])["code"] == 40002


def test_wrong_app_secret_is_40001(sim, api):
    _, params = _decide(sim, "authorize")
    assert _exchange(sim, params["auth_code"], secret="wrong")["code"] == 40001
    listed = api.body("/oauth2/advertiser/get/", app_id=sim.config.app_id, secret="wrong")
    assert listed["code"] == 40001


def test_consent_grants_only_the_chosen_advertisers(sim, client_for):
    first, second = sim.dataset.advertiser_ids
    _, params = _decide(sim, "authorize", advertiser_ids=[second])
    token = _exchange(sim, params["auth_code"])["data"]["access_token"]
    api = client_for(sim, token=token)
    assert api.body("/campaign/get/", advertiser_id=first)["code"] == 40001
    assert api.body("/campaign/get/", advertiser_id=second)["code"] == 0


def test_consent_default_grant_is_configurable(make_sim):
    sim = make_sim(advertisers=3, auto_approve=True)
    sim.config.consent_advertiser_ids = sim.dataset.advertiser_ids[:1]
    location = _consent(sim).headers["Location"]
    code = parse_qs(urlsplit(location).query)["auth_code"][0]
    assert _exchange(sim, code)["data"]["advertiser_ids"] == sim.dataset.advertiser_ids[:1]


def test_refresh_tokens_rotate_and_old_ones_stop_working(make_sim, client_for):
    sim = make_sim(token_lifetime_s=3600)
    _, params = _decide(sim, "authorize")
    first = _exchange(sim, params["auth_code"])["data"]
    assert first["access_token_expire_in"] == 3600
    assert first["refresh_token"]
    assert first["refresh_token_expire_in"] > 3600

    second = _refresh(sim, first["refresh_token"])
    assert second["code"] == 0, second
    assert second["data"]["refresh_token"] != first["refresh_token"]
    assert second["data"]["access_token"] != first["access_token"]

    reused = _refresh(sim, first["refresh_token"])
    assert reused["code"] == 40105
    assert "refresh_token" in reused["message"]

    third = _refresh(sim, second["data"]["refresh_token"])
    assert third["code"] == 0
    api = client_for(sim, token=third["data"]["access_token"])
    assert api.body("/campaign/get/", advertiser_id=sim.dataset.advertiser_ids[0])["code"] == 0


def test_issued_tokens_expire_after_their_lifetime(make_sim, client_for):
    sim = make_sim(token_lifetime_s=0)
    _, params = _decide(sim, "authorize")
    data = _exchange(sim, params["auth_code"])["data"]
    api = client_for(sim, token=data["access_token"])
    assert api.body("/campaign/get/", advertiser_id=sim.dataset.advertiser_ids[0])["code"] == 40105
    refreshed = _refresh(sim, data["refresh_token"])
    assert refreshed["code"] == 0


def test_refresh_needs_grant_type(make_sim):
    sim = make_sim(token_lifetime_s=60)
    body = {"app_id": sim.config.app_id, "secret": sim.config.app_secret, "refresh_token": "x"}
    response = requests.post(sim.api_url + "/oauth2/refresh_token/", json=body, timeout=5)
    assert response.json()["code"] == 40002


def test_token_exchange_accepts_a_form_body(sim):
    _, params = _decide(sim, "authorize")
    form = {
        "app_id": sim.config.app_id,
        "secret": sim.config.app_secret,
        "auth_code": params["auth_code"],
    }
    response = requests.post(sim.api_url + "/oauth2/access_token/", data=form, timeout=5)
    assert response.json()["code"] == 0


def test_token_exchange_is_post_only(sim):
    response = requests.get(sim.api_url + "/oauth2/access_token/", timeout=5)
    assert response.status_code == 405
    assert response.json()["code"] == 40002


def test_consent_page_visits_are_counted(sim):
    _consent(sim)
    _decide(sim, "deny")
    _consent(sim, app_id="other")
    assert sim.stats.count(endpoint="/portal/auth") == 3
    assert sim.stats.count(endpoint="/portal/auth", outcome="redirect") == 1
    assert sim.stats.count(endpoint="/portal/auth", outcome="http_400") == 1


def test_legacy_consent_url(sim):
    query = {"app_id": sim.config.app_id, "state": "s", "redirect_uri": REDIRECT}
    response = requests.get(sim.base_url + "/marketing_api/auth", params=query, timeout=5)
    assert 'id="authorize"' in response.text
