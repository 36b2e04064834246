"""Secrets stay secret; the token store survives crashes; the connect flow is not an open door.

Every Meltano command of this suite already fails its test when a known secret appears in
its output (see harness.Pipeline.finish). Here: Meltano's state, its files, a debug-level
run, the token store's mode and atomicity, and the OAuth callback end to end.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tap_tiktok_ads.auth import StoredTokens, TokenStore
from tests.e2e.harness import REPO_ROOT
from tests.reliability.conftest import Reference
from tests.reliability.harness import EL, leaked, run_args

OLD = StoredTokens(access_token="SECRET-OLD-ACCESS-1", refresh_token="SECRET-OLD-REFRESH-1")
NEW = StoredTokens(access_token="SECRET-NEW-ACCESS-2", refresh_token="SECRET-NEW-REFRESH-2")


def _store(tmp_path: Path) -> tuple[TokenStore, Path]:
    path = tmp_path / "secrets" / "tokens.json"
    store = TokenStore(path)
    store.save(OLD)
    return store, path


def _unchanged(path: Path) -> None:
    loaded = TokenStore(path).load()
    assert loaded is not None
    assert (loaded.access_token, loaded.refresh_token) == (OLD.access_token, OLD.refresh_token)
    assert path.stat().st_mode & 0o777 == 0o600
    leftovers = [p for p in path.parent.iterdir() if p != path]
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in leftovers), leftovers


def test_token_store_is_0600_even_with_a_permissive_umask(tmp_path: Path) -> None:
    previous = os.umask(0)
    try:
        _, path = _store(tmp_path)
    finally:
        os.umask(previous)
    assert path.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("failing", ["fsync", "rename"])
def test_token_store_failing_mid_write_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    store, path = _store(tmp_path)

    def boom(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    if failing == "fsync":
        monkeypatch.setattr(os, "fsync", boom)
    else:
        monkeypatch.setattr(Path, "replace", boom)
    with pytest.raises(OSError, match="No space"):
        store.save(NEW)
    monkeypatch.undo()
    _unchanged(path)
    assert list(path.parent.iterdir()) == [path]  # the temporary file is cleaned up


def test_token_store_survives_sigkill_between_write_and_rename(tmp_path: Path) -> None:
    _, path = _store(tmp_path)
    script = (
        "import os, signal, pathlib, sys\n"
        "from tap_tiktok_ads.auth import StoredTokens, TokenStore\n"
        "pathlib.Path.replace = lambda *a: os.kill(os.getpid(), signal.SIGKILL)\n"
        "TokenStore(sys.argv[1]).save(StoredTokens(access_token='SECRET-NEW-ACCESS-2'))\n"
    )
    crashed = subprocess.run(
        [sys.executable, "-c", script, str(path)], cwd=REPO_ROOT, check=False, timeout=60
    )
    assert crashed.returncode == -signal.SIGKILL
    _unchanged(path)


@pytest.mark.e2e
def test_state_and_meltano_files_hold_no_secret(reference: Reference) -> None:
    pipeline, ds = reference.pipeline, reference.data_source_id
    state = pipeline.state(ds)
    assert state
    assert not leaked(json.dumps(state))
    # What Meltano and dbt leave behind: run files (config, catalog, state), logs, dbt's
    # target folder, in every system directory this session's runs used.
    folders = [REPO_ROOT / ".meltano" / "logs", REPO_ROOT / "transform" / "logs"]
    for sys_dir in pipeline.system_db.parent.glob("sys-*"):
        folders += [sys_dir / "run", sys_dir / "logs", sys_dir / "dbt-target"]
    scanned = 0
    for folder in folders:
        for file in folder.rglob("*") if folder.is_dir() else []:
            if file.is_file():
                found = leaked(file.read_text(errors="replace"))
                assert not found, f"{file} holds {found}"
                scanned += 1
    assert scanned


@pytest.mark.e2e
@pytest.mark.slow
def test_debug_level_run_prints_no_secret(reference: Reference) -> None:
    """Meltano's masking counts only if it masks: the most verbose run must not leak."""
    pipeline, ds = reference.pipeline, reference.data_source_id
    result = pipeline.meltano(
        "--log-level=debug",
        *run_args(ds, *EL),
        data_source_id=ds,
        check=False,
    )  # Pipeline.finish fails the test on any secret in the output
    assert result.returncode == 0, result.tail()
    assert "DEBUG" in result.output.upper()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _listening_addresses(port: int) -> set[str]:
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if int(hex_port, 16) == port and state == "0A":  # LISTEN
                found.add(address)
    return found


@pytest.mark.slow
def test_connect_callback_is_loopback_only_csrf_checked_and_no_open_redirect(
    tmp_path: Path, shared_sim
) -> None:
    port = _free_port()
    origin = f"http://127.0.0.1:{port}"
    store = tmp_path / "store.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TIKTOK_ADS_", "PG"))} | {
        "TIKTOK_ADS_APP_ID": shared_sim.config.app_id,
        "TIKTOK_ADS_APP_SECRET": shared_sim.config.app_secret,
        "TIKTOK_ADS_REDIRECT_URI": f"{origin}/oauth/tiktok/callback",
        "TIKTOK_ADS_AUTH_URL": shared_sim.auth_url,
        "TIKTOK_ADS_API_URL": shared_sim.api_url,
        "TIKTOK_ADS_TOKEN_STORE_PATH": str(store),
    }
    connect = Path(sys.executable).parent / "tap-tiktok-ads-connect"
    process = subprocess.Popen(
        [str(connect), "--no-browser", "--no-env-file"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not _listening_addresses(port):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the connect flow never listened"
            time.sleep(0.1)
        # Default bind: 127.0.0.1 only (0100007F), never all interfaces.
        assert _listening_addresses(port) == {"0100007F"}

        http = requests.Session()
        authorize = http.get(
            f"{origin}/oauth/tiktok",
            params={
                "redirect_uri": "https://evil.example/cb",
                "next": "https://evil.example/",
                "return_to": "//evil.example",
            },
            allow_redirects=False,
            timeout=10,
        )
        location = authorize.headers["Location"]
        assert location.startswith(shared_sim.auth_url + "?")
        assert "evil.example" not in location
        # A callback with a state this browser was never given: refused, nothing saved.
        forged = http.get(
            f"{origin}/oauth/tiktok/callback",
            params={"auth_code": "stolen-code", "state": "forged-state"},
            allow_redirects=False,
            timeout=10,
        )
        assert 400 <= forged.status_code < 500
        assert "evil.example" not in forged.headers.get("Location", "")
        # A callback that tries to bounce the browser elsewhere goes nowhere but home.
        bounce = http.get(
            f"{origin}/oauth/tiktok/callback",
            params={"error": "access_denied", "next": "https://evil.example/"},
            allow_redirects=False,
            timeout=10,
        )
        assert "evil.example" not in bounce.headers.get("Location", "")
        assert not store.exists()
    finally:
        process.send_signal(signal.SIGINT)
        try:
            out, err = process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
    assert shared_sim.config.app_secret not in out + err
