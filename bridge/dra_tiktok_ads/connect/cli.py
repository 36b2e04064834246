"""``tap-tiktok-ads-connect``: connect a TikTok Ads account from the command line.

Like ``gcloud auth login``: serves the connect flow on 127.0.0.1 (the port comes from
TIKTOK_ADS_REDIRECT_URI), opens the start page in a browser (or prints its URL), and exits
once the chosen advertisers are saved.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import threading
import time
import webbrowser
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from dra_tiktok_ads.connect.app import create_app
from dra_tiktok_ads.connect.server import Server
from dra_tiktok_ads.connect.settings import (
    CALLBACK_PATH,
    DEFAULT_TOKEN_STORE_DIR,
    OBSOLETE_TOKEN_STORE_VARIABLE,
    ConnectSettings,
    SettingsError,
    is_loopback_host,
)

if TYPE_CHECKING:
    from dra_tiktok_ads.connect.saving import SaveResult

PROG = "tap-tiktok-ads-connect"
# Once saved, the browser still fetches the done page and its stylesheet and logo.
DONE_GRACE_SECONDS = 1.0
DONE_TIMEOUT_SECONDS = 15.0
POLL_SECONDS = 0.2
logger = logging.getLogger("dra_tiktok_ads.connect")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Connect a TikTok Ads account: sign in on TikTok, choose advertisers, and save "
            "the tokens where the pipeline reads them. Reads TIKTOK_ADS_APP_ID, "
            "TIKTOK_ADS_APP_SECRET and TIKTOK_ADS_REDIRECT_URI (plus optional "
            "TIKTOK_ADS_AUTH_URL, TIKTOK_ADS_API_URL, TIKTOK_ADS_SCOPE, "
            "TIKTOK_ADS_TOKEN_STORE_DIR, TIKTOK_ADS_ENV_FILE)."
        ),
    )
    parser.add_argument(
        "--token-store-dir",
        type=Path,
        help="folder of the token stores, one <advertiser_id>.json per advertiser "
        f"(default: TIKTOK_ADS_TOKEN_STORE_DIR, else {DEFAULT_TOKEN_STORE_DIR})",
    )
    parser.add_argument(
        "--env-file",
        type=Path,
        help="Meltano .env to update (default: TIKTOK_ADS_ENV_FILE or .env)",
    )
    parser.add_argument(
        "--no-env-file", action="store_true", help="do not write any .env, only the token store"
    )
    parser.add_argument(
        "--bind", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)"
    )
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a non-loopback --bind address and redirect URI (not for laptops)",
    )
    parser.add_argument(
        "--no-browser", action="store_true", help="print the start URL instead of opening it"
    )
    parser.add_argument(
        "--keep-running", action="store_true", help="keep serving after a connection is saved"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request")
    return parser


def serve(
    settings: ConnectSettings,
    *,
    bind: str = "127.0.0.1",
    open_browser: bool = True,
    keep_running: bool = False,
    ready: threading.Event | None = None,
    stop: threading.Event | None = None,
) -> int:
    """Serve the connect flow with waitress until a connection is saved (or ``stop`` is set)."""
    saved = threading.Event()
    stop = stop or threading.Event()

    def on_saved(result: SaveResult) -> None:
        for advertiser in result.advertisers:
            data_source = (
                f", data source {advertiser.data_source_id}"
                if advertiser.data_source_id is not None
                else ""
            )
            print(
                f"Saved advertiser {advertiser.advertiser_id}: tokens in "
                f"{advertiser.token_store_path}{data_source}",
                flush=True,
            )
        if result.env_file is not None:
            print(f"Updated {result.env_file} ({', '.join(result.env_keys)})", flush=True)
        saved.set()

    app = create_app(settings, on_saved=on_saved)
    last_request = [time.monotonic()]
    done_page_served = threading.Event()

    def tracked_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        last_request[0] = time.monotonic()
        if str(environ.get("PATH_INFO", "")).rstrip("/") == "/oauth/tiktok/done":
            done_page_served.set()
        return app(environ, start_response)

    def finished() -> bool:
        """After saving, serve the done page and its assets, then stop."""
        if keep_running or not saved.is_set():
            return False
        idle = time.monotonic() - last_request[0]
        return (done_page_served.is_set() and idle > DONE_GRACE_SECONDS) or (
            idle > DONE_TIMEOUT_SECONDS
        )

    try:
        server = Server(tracked_app, bind, settings.port)
    except OSError as exc:
        print(
            f"{PROG}: error: cannot listen on {bind}:{settings.port} ({exc.strerror}); "
            "stop the other program or change the port in TIKTOK_ADS_REDIRECT_URI",
            file=sys.stderr,
        )
        return 1
    start_url = f"{settings.origin}/"
    with server:
        print(f"Open {start_url} in your browser to connect TikTok Ads.", file=sys.stderr)
        if open_browser:
            with contextlib.suppress(webbrowser.Error):
                webbrowser.open(start_url)
        if ready is not None:
            ready.set()
        try:
            while not stop.wait(POLL_SECONDS) and not finished():
                pass
        except KeyboardInterrupt:
            if not saved.is_set():
                print(f"{PROG}: stopped before a connection was saved", file=sys.stderr)
                return 130
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not args.allow_remote and not is_loopback_host(args.bind):
        print(
            f"{PROG}: error: --bind {args.bind} is not a loopback address; "
            "add --allow-remote to serve other machines",
            file=sys.stderr,
        )
        return 2
    overrides: dict[str, object] = {"allow_remote": args.allow_remote}
    if args.token_store_dir is not None:
        overrides["token_store_dir"] = args.token_store_dir
    if args.env_file is not None:
        overrides["env_file"] = args.env_file
    try:
        settings = ConnectSettings.from_env(None, **overrides)
    except SettingsError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    if os.environ.get(OBSOLETE_TOKEN_STORE_VARIABLE):
        print(
            f"{PROG}: warning: {OBSOLETE_TOKEN_STORE_VARIABLE} is no longer read: each "
            f"advertiser's tokens go to {settings.token_store_dir}/<advertiser_id>.json "
            "(TIKTOK_ADS_TOKEN_STORE_DIR sets the folder)",
            file=sys.stderr,
        )
    if urlsplit(settings.redirect_uri).path != CALLBACK_PATH:
        print(
            f"{PROG}: error: TIKTOK_ADS_REDIRECT_URI must have the path {CALLBACK_PATH} "
            "(this command serves the flow at the root)",
            file=sys.stderr,
        )
        return 2
    if args.no_env_file:
        settings = _without_env_file(settings)
    return serve(
        settings,
        bind=args.bind,
        open_browser=not args.no_browser,
        keep_running=args.keep_running,
    )


def _without_env_file(settings: ConnectSettings) -> ConnectSettings:
    from dataclasses import replace

    return replace(settings, env_file=None)


if __name__ == "__main__":
    sys.exit(main())
