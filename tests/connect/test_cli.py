"""tap-tiktok-ads-connect: settings errors, loopback only, a whole run on the simulator."""

from __future__ import annotations

import logging
import re
import socket
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from dra_tiktok_ads.connect import ConnectSettings, cli
from dra_tiktok_ads.connect.server import Server
from tap_tiktok_ads.auth import TokenStore
from tests.connect.helpers import csrf_token, free_port
from tests.connect.simflow import consent
from tiktok_sim import SimConfig, Simulator

VARIABLES = ("TIKTOK_ADS_APP_ID", "TIKTOK_ADS_APP_SECRET", "TIKTOK_ADS_REDIRECT_URI")


@pytest.fixture
def env(monkeypatch, tmp_path):
    for name in list(__import__("os").environ):
        if name.startswith("TIKTOK_ADS_"):
            monkeypatch.delenv(name)
    values = {
        "TIKTOK_ADS_APP_ID": "sim-app-id",
        "TIKTOK_ADS_APP_SECRET": "sim-app-secret",
        "TIKTOK_ADS_REDIRECT_URI": f"http://127.0.0.1:{free_port()}/oauth/tiktok/callback",
        "TIKTOK_ADS_TOKEN_STORE_DIR": str(tmp_path / ".secrets" / "tiktok"),
        "TIKTOK_ADS_ENV_FILE": str(tmp_path / ".env"),
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    for name in ("PGHOST", "PGDATABASE", "ENCRYPTION_KEY"):
        monkeypatch.delenv(name, raising=False)
    return values


@pytest.mark.parametrize("missing", VARIABLES)
def test_missing_setting_is_one_line_naming_it(env, monkeypatch, capsys, missing):
    monkeypatch.delenv(missing)
    assert cli.main(["--no-browser"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert missing in err
    assert "sim-app-secret" not in err


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TIKTOK_ADS_REDIRECT_URI", "http://127.0.0.1:8765/elsewhere"),
        ("TIKTOK_ADS_REDIRECT_URI", "http://127.0.0.1:8765/prefix/oauth/tiktok/callback"),
        ("TIKTOK_ADS_REDIRECT_URI", "ftp://127.0.0.1/oauth/tiktok/callback"),
        ("TIKTOK_ADS_REDIRECT_URI", "https://connect.example.com/oauth/tiktok/callback"),
        ("TIKTOK_ADS_REDIRECT_URI", "http://127.0.0.1:99999/oauth/tiktok/callback"),
        ("TIKTOK_ADS_REDIRECT_URI", "http://[::1]:8765/oauth/tiktok/callback"),
        ("TIKTOK_ADS_AUTH_URL", "not a url"),
        ("TIKTOK_ADS_API_URL", "file:///etc/passwd"),
    ],
)
def test_invalid_setting_is_named(env, monkeypatch, capsys, variable, value):
    monkeypatch.setenv(variable, value)
    assert cli.main(["--no-browser"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert variable in err


def test_non_loopback_bind_needs_allow_remote(env, capsys):
    assert cli.main(["--no-browser", "--bind", "0.0.0.0"]) == 2  # noqa: S104
    assert "--allow-remote" in capsys.readouterr().err


def test_busy_port_is_reported(env, capsys):
    port = urlsplit(env["TIKTOK_ADS_REDIRECT_URI"]).port
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        assert cli.main(["--no-browser"]) == 1
    assert "TIKTOK_ADS_REDIRECT_URI" in capsys.readouterr().err


def hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]


def test_server_stops_cleanly_despite_an_idle_keep_alive_connection():
    port = free_port()
    before = set(threading.enumerate())
    server = Server(hello, "127.0.0.1", port)
    http = requests.Session()  # keeps its connection open, as a browser does
    assert http.get(f"http://127.0.0.1:{port}/", timeout=5).text == "ok"
    started = time.monotonic()
    server.close()
    assert time.monotonic() - started < 3
    assert set(threading.enumerate()) <= before  # the loop and every worker thread ended
    for client in (http, requests):
        with pytest.raises(requests.ConnectionError):
            client.get(f"http://127.0.0.1:{port}/", timeout=5)


def test_serve_returns_when_told_to_stop(env):
    settings = ConnectSettings.from_env()
    ready, stop = threading.Event(), threading.Event()
    result: dict[str, int] = {}
    thread = threading.Thread(
        target=lambda: result.setdefault(
            "rc", cli.serve(settings, open_browser=False, ready=ready, stop=stop)
        )
    )
    thread.start()
    assert ready.wait(10)
    origin = settings.origin
    assert "Connect TikTok Ads" in requests.get(origin + "/", timeout=5).text
    stop.set()
    thread.join(timeout=10)
    assert result == {"rc": 0}
    with pytest.raises(requests.ConnectionError):
        requests.get(origin + "/", timeout=5)


def run_cli_in_thread(args):
    result: dict[str, int] = {}
    thread = threading.Thread(target=lambda: result.setdefault("rc", cli.main(args)), daemon=True)
    thread.start()
    return thread, result


def wait_for(url: str) -> None:
    for _ in range(100):
        try:
            requests.get(url, timeout=1)
        except requests.ConnectionError:
            threading.Event().wait(0.05)
        else:
            return
    raise AssertionError(f"{url} never answered")


@pytest.mark.slow
def test_whole_run_against_the_simulator(env, monkeypatch, tmp_path, caplog, capsys):
    caplog.set_level(logging.INFO)
    with Simulator(SimConfig(advertisers=3, token_lifetime_s=86400)) as sim:
        monkeypatch.setenv("TIKTOK_ADS_AUTH_URL", sim.auth_url)
        monkeypatch.setenv("TIKTOK_ADS_API_URL", sim.api_url)
        origin = env["TIKTOK_ADS_REDIRECT_URI"].removesuffix("/oauth/tiktok/callback")
        thread, result = run_cli_in_thread(["--no-browser", "--verbose"])
        wait_for(origin + "/")
        http = requests.Session()
        assert "Connect TikTok Ads" in http.get(origin + "/", timeout=10).text
        authorize = http.get(origin + "/oauth/tiktok", allow_redirects=False, timeout=10)
        assert authorize.headers["Location"].startswith(sim.auth_url + "?")
        callback = consent(sim, authorize.headers["Location"])
        assert callback.startswith(env["TIKTOK_ADS_REDIRECT_URI"] + "?")
        code_match = re.search(r"auth_code=([^&]+)", callback)
        assert code_match is not None
        auth_code = code_match.group(1)
        picker = http.get(callback, timeout=10)
        assert picker.url == origin + "/oauth/tiktok/advertisers"
        ids = re.findall(r'name="advertiser_id" value="(\d+)"', picker.text)
        assert len(ids) == 3
        token = csrf_token(picker.text)
        done = http.post(
            origin + "/oauth/tiktok/advertisers",
            data={"csrf_token": token, "advertiser_id": ids[:2]},
            timeout=10,
        )
        assert done.status_code == 200
        assert "Connected 2 advertiser" in done.text
        thread.join(timeout=10)
        assert result == {"rc": 0}  # the command stops once the connection is saved
        with pytest.raises(requests.ConnectionError):  # ... and no longer listens
            http.get(origin + "/", timeout=5)

        store_dir = Path(env["TIKTOK_ADS_TOKEN_STORE_DIR"])
        assert sorted(p.name for p in store_dir.iterdir()) == sorted(f"{i}.json" for i in ids[:2])
        for advertiser_id in ids[:2]:
            stored = TokenStore(store_dir / f"{advertiser_id}.json").load()
            assert stored is not None
            assert stored.advertiser_ids == [advertiser_id]
            assert stored.refresh_token
            assert stored.token_expires_at is not None
        assert stored is not None
        check = requests.get(
            f"{sim.api_url}/advertiser/info/",
            params={"advertiser_ids": f'["{ids[0]}"]'},
            headers={"Access-Token": stored.access_token},
            timeout=10,
        ).json()
        assert check["code"] == 0
        env_text = (tmp_path / ".env").read_text()
        assert f"TAP_TIKTOK_ADS_API_URL='{sim.api_url}'" in env_text

    out = capsys.readouterr()
    for advertiser_id in ids[:2]:  # the command says where each advertiser's tokens went
        assert f"Saved advertiser {advertiser_id}: tokens in {store_dir}/{advertiser_id}.json" in (
            out.out
        )
    logged = caplog.text + out.out + out.err
    assert "/oauth/tiktok/callback" in logged  # requests are logged ...
    for secret in (auth_code, stored.access_token, str(stored.refresh_token), "sim-app-secret"):
        assert secret not in logged  # ... without their secrets
        assert secret not in done.text + picker.text


@pytest.mark.slow
def test_keep_running_connects_accounts_one_after_another(env, monkeypatch):
    with Simulator(SimConfig(advertisers=2)) as sim:
        monkeypatch.setenv("TIKTOK_ADS_AUTH_URL", sim.auth_url)
        monkeypatch.setenv("TIKTOK_ADS_API_URL", sim.api_url)
        settings = ConnectSettings.from_env()
        ready, stop = threading.Event(), threading.Event()
        thread = threading.Thread(
            target=cli.serve,
            args=(settings,),
            kwargs={"open_browser": False, "keep_running": True, "ready": ready, "stop": stop},
        )
        thread.start()
        try:
            assert ready.wait(10)
            first, second = sim.dataset.advertiser_ids
            for advertiser_id in (first, second):
                http = requests.Session()  # another person, another browser
                authorize = http.get(
                    settings.origin + "/oauth/tiktok", allow_redirects=False, timeout=10
                )
                picker = http.get(consent(sim, authorize.headers["Location"]), timeout=10)
                done = http.post(
                    settings.origin + "/oauth/tiktok/advertisers",
                    data={"csrf_token": csrf_token(picker.text), "advertiser_id": advertiser_id},
                    timeout=10,
                )
                assert "Connected 1 advertiser" in done.text
        finally:
            stop.set()
            thread.join(timeout=10)
    for advertiser_id in (first, second):
        stored = TokenStore(settings.token_store_path(advertiser_id)).load()
        assert stored is not None
        assert stored.advertiser_ids == [advertiser_id]


def test_the_old_single_store_variable_is_named_in_a_warning(env, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("TIKTOK_ADS_TOKEN_STORE_PATH", str(tmp_path / "old-store.json"))
    # A redirect URI this command cannot serve: it stops right after reading the settings.
    monkeypatch.setenv(
        "TIKTOK_ADS_REDIRECT_URI", "http://127.0.0.1:8765/prefix/oauth/tiktok/callback"
    )
    assert cli.main(["--no-browser"]) == 2
    err = capsys.readouterr().err
    assert "warning: TIKTOK_ADS_TOKEN_STORE_PATH is no longer read" in err
    assert "TIKTOK_ADS_TOKEN_STORE_DIR" in err
