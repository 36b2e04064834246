"""A real browser through the whole connect flow, then the tap runs on what was saved.

Headless Chromium (Debian's chromium + chromium-driver, installed here when missing; never a
browser download) clicks start -> simulator consent -> callback -> picker -> save, with the
real ``tap-tiktok-ads-connect`` command serving the flow.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tap_tiktok_ads.auth import TokenStore
from tests.connect.helpers import free_port
from tiktok_sim import SimConfig, Simulator

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
VENV_BIN = Path(sys.executable).parent
SCREENSHOTS = os.environ.get("CONNECT_SCREENSHOT_DIR")  # set by hand to look at the pages


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium and its driver, installed with apt-get when absent."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        if shutil.which("apt-get") is None:
            pytest.skip("Chromium is not installed and apt-get is not available")
        install = subprocess.run(
            ["apt-get", "install", "-y", "--no-install-recommends", "chromium", "chromium-driver"],
            capture_output=True,
            text=True,
            check=False,
            env=os.environ | {"DEBIAN_FRONTEND": "noninteractive"},
        )
        if install.returncode != 0 or not CHROMEDRIVER.exists():
            tail = (install.stderr or install.stdout).strip().splitlines()[-1:]
            pytest.skip(f"could not install chromium/chromium-driver with apt-get: {tail}")
    return CHROMEDRIVER


@pytest.fixture
def driver(chromium, tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1100,900",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    browser = webdriver.Chrome(service=Service(str(chromium)), options=options)
    browser.set_page_load_timeout(30)
    try:
        yield browser
    finally:
        browser.quit()


def visited_urls(driver) -> list[str]:
    """Every URL the browser requested or was redirected to (from Chromium's network log)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
            redirect = message["params"].get("redirectResponse")
            if redirect:
                urls.append(redirect["url"])
    return urls


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        key, _, value = line.partition("=")
        values[key] = value.strip("'")
    return values


def test_browser_connects_and_the_tap_reads_with_what_was_saved(driver, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(driver, 20)
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    with Simulator(SimConfig(advertisers=2, campaigns=2, adgroups=3, days=10)) as sim:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("TIKTOK_ADS_", "TAP_TIKTOK_ADS_", "PG", "ENCRYPTION_KEY"))
        } | {
            "TIKTOK_ADS_APP_ID": "sim-app-id",
            "TIKTOK_ADS_APP_SECRET": "sim-app-secret",
            "TIKTOK_ADS_REDIRECT_URI": f"{origin}/oauth/tiktok/callback",
            "TIKTOK_ADS_AUTH_URL": sim.auth_url,
            "TIKTOK_ADS_API_URL": sim.api_url,
        }
        command = subprocess.Popen(
            [str(VENV_BIN / "tap-tiktok-ads-connect"), "--no-browser", "--verbose"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            # The start URL is printed once the server listens.
            assert command.stderr is not None
            first_line = command.stderr.readline()
            assert f"{origin}/" in first_line, first_line

            driver.get(f"{origin}/")
            wait.until(ec.element_to_be_clickable((By.ID, "connect")))
            assert "Connect TikTok Ads" in driver.page_source
            logo = driver.find_element(By.CSS_SELECTOR, "img.logo")
            assert driver.execute_script("return arguments[0].naturalWidth", logo) > 0
            if SCREENSHOTS:
                driver.save_screenshot(str(Path(SCREENSHOTS) / "connect-start.png"))
            pages = [driver.page_source]

            driver.find_element(By.ID, "connect").click()
            wait.until(ec.element_to_be_clickable((By.ID, "authorize")))
            assert driver.current_url.startswith(sim.auth_url + "?")
            driver.find_element(By.ID, "authorize").click()

            wait.until(ec.presence_of_element_located((By.ID, "picker")))
            assert driver.current_url == f"{origin}/oauth/tiktok/advertisers"
            if SCREENSHOTS:
                driver.save_screenshot(str(Path(SCREENSHOTS) / "connect-picker.png"))
            pages.append(driver.page_source)
            boxes = driver.find_elements(By.CSS_SELECTOR, "input[name=advertiser_id]")
            assert len(boxes) == 2
            for box in boxes:
                if not box.is_selected():
                    box.click()
            driver.find_element(By.ID, "save").click()
            wait.until(ec.presence_of_element_located((By.ID, "saved")))
            pages.append(driver.page_source)
            if SCREENSHOTS:
                driver.save_screenshot(str(Path(SCREENSHOTS) / "connect-done.png"))
            assert "Connected 2 advertiser" in driver.page_source
            stdout, stderr = command.communicate(timeout=30)
        finally:
            if command.poll() is None:
                command.kill()
                command.communicate()
        assert command.returncode == 0, stderr
        urls = visited_urls(driver)

        # One token store per advertiser, each holding that advertiser only.
        store_dir = tmp_path / ".secrets" / "tiktok"
        assert sorted(p.name for p in store_dir.iterdir()) == sorted(
            f"{advertiser_id}.json" for advertiser_id in sim.dataset.advertiser_ids
        )
        stores = {}
        for advertiser_id in sim.dataset.advertiser_ids:
            store_path = store_dir / f"{advertiser_id}.json"
            loaded = TokenStore(store_path).load()
            assert loaded is not None
            assert loaded.advertiser_ids == [advertiser_id]
            assert oct(store_path.stat().st_mode & 0o777) == "0o600"
            stores[advertiser_id] = store_path
            assert str(store_path.relative_to(tmp_path)) in pages[-1]  # the done page says so
        assert loaded is not None
        access_token = loaded.access_token  # one sign-in: the same token in each store

        # No secret in any page, log line or URL, except the auth code in TikTok's callback.
        callbacks = sorted({u for u in urls if urlsplit(u).path == "/oauth/tiktok/callback"})
        assert len(callbacks) == 1
        auth_code = parse_qs(urlsplit(callbacks[0]).query)["auth_code"][0]
        output = stdout + first_line + stderr
        for secret in (access_token, "sim-app-secret", auth_code):
            assert secret not in output
            assert all(secret not in page for page in pages)
            assert all(secret not in url for url in urls if url != callbacks[0])
        assert "GET /oauth/tiktok/callback" in output  # the request was logged, query-free

        # The tap runs with exactly what the connect flow saved: the shared settings from
        # .env, one advertiser's token store, and no advertiser_ids (the store names it).
        saved = read_env_file(tmp_path / ".env")
        assert "TAP_TIKTOK_ADS_ADVERTISER_IDS" not in saved
        assert "TAP_TIKTOK_ADS_TOKEN_STORE_PATH" not in saved
        first = sim.dataset.advertiser_ids[0]
        config = {
            "api_url": saved["TAP_TIKTOK_ADS_API_URL"],
            "app_id": saved["TAP_TIKTOK_ADS_APP_ID"],
            "token_store_path": str(stores[first]),
            "start_date": (date.today() - timedelta(days=3)).isoformat(),
        }
        config_path = tmp_path / "tap-config.json"
        config_path.write_text(json.dumps(config))
        tap = subprocess.run(
            [str(VENV_BIN / "tap-tiktok-ads"), "--config", str(config_path)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            cwd=tmp_path,
        )
        assert tap.returncode == 0, tap.stderr[-3000:]
        records = [
            json.loads(line)
            for line in tap.stdout.splitlines()
            if line.startswith("{") and '"type":"RECORD"' in line.replace(" ", "")
        ]
        streams = {r["stream"] for r in records}
        assert {"advertiser_info", "campaign_performance"} <= streams, streams
        # Only the advertiser of that store: tenants are not mixed.
        assert {r["record"]["advertiser_id"] for r in records} == {first}
        assert access_token not in tap.stdout + tap.stderr
