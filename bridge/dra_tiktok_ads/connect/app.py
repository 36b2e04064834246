"""The connect flow as a Flask application, and the guards every request passes.

Routes (relative to the mount point, ``SCRIPT_NAME``; views in :mod:`.flow`)::

    GET  /                          start page ("Connect TikTok Ads")
    GET  /oauth/tiktok              redirect to TikTok's consent page with a fresh state
    GET  /oauth/tiktok/callback     check state, exchange the code, list advertisers
    GET  /oauth/tiktok/advertisers  the picker
    POST /oauth/tiktok/advertisers  save the chosen advertisers (CSRF token required)
    GET  /oauth/tiktok/done         what was saved
    GET  /static/<file>             logo and stylesheet

Security: sessions live server-side (Flask-Session; the cookie holds only a random id, is
HttpOnly, SameSite=Lax, Secure for https, and the id is renewed after sign-in); the OAuth
state is random, bound to the session, single-use and short-lived (:mod:`.states`); the picker
form is protected by Flask-WTF's CSRF token; tokens stay in the server-side session and are
dropped once saved; every redirect target is built from settings, never from the request; by
default only loopback clients are served and only loopback ``Host`` names are trusted
(Flask's ``TRUSTED_HOSTS``), which also defeats DNS rebinding.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from cachelib import SimpleCache
from flask import Flask, Response, redirect, request, session
from flask_session import Session
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import SecurityError

from dra_tiktok_ads.connect.flow import ConnectFlow, Saver
from dra_tiktok_ads.connect.pages import FORM_FORGED, NOT_AVAILABLE, error_response
from dra_tiktok_ads.connect.settings import CALLBACK_PATH, ConnectSettings, is_loopback_host
from dra_tiktok_ads.connect.states import OAuthStates
from dra_tiktok_ads.connect.tiktok import TikTokOAuthClient

if TYPE_CHECKING:
    from flask.typing import ResponseReturnValue

    from dra_tiktok_ads.connect.saving import SaveResult

logger = logging.getLogger("dra_tiktok_ads.connect")

SESSION_COOKIE = "tiktok_connect_session"
MAX_SESSIONS = 1000
MAX_FORM_BYTES = 64 * 1024
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}
LOOPBACK_NAMES = ("localhost", "127.0.0.1")


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _new_token() -> str:
    return secrets.token_urlsafe(32)


def create_app(
    settings: ConnectSettings,
    *,
    now: Callable[[], datetime] = _utcnow,
    rng: Callable[[], str] = _new_token,
    client: TikTokOAuthClient | None = None,
    saver: Saver | None = None,
    on_saved: Callable[[SaveResult], None] | None = None,
) -> Flask:
    """The WSGI application for the TikTok Ads connect flow; one instance serves many browsers.

    ``now`` and ``rng`` (a factory of unguessable tokens) exist for tests; ``client`` talks to
    TikTok; ``saver`` stores a chosen connection (default: token store, .env, platform);
    ``on_saved`` is told when a connection was saved (the CLI stops then).
    """
    app = Flask(__name__)
    mount_path = urlsplit(settings.redirect_uri).path.removesuffix(CALLBACK_PATH)
    app.config.update(
        # Signs only the CSRF token (Flask-WTF); sessions are server-side and unsigned ids.
        SECRET_KEY=secrets.token_hex(32),
        TRUSTED_HOSTS=None if settings.allow_remote else _trusted_hosts(settings),
        MAX_CONTENT_LENGTH=MAX_FORM_BYTES,
        SESSION_TYPE="cachelib",
        SESSION_CACHELIB=SimpleCache(
            threshold=MAX_SESSIONS, default_timeout=settings.session_ttl_seconds
        ),
        PERMANENT_SESSION_LIFETIME=timedelta(seconds=settings.session_ttl_seconds),
        SESSION_PERMANENT=False,
        # Save a session only when a request changed it: a stylesheet request loaded in
        # parallel must not write back a stale copy.
        SESSION_REFRESH_EACH_REQUEST=False,
        SESSION_COOKIE_NAME=SESSION_COOKIE,
        SESSION_COOKIE_PATH=mount_path or "/",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        # The picker checks the session first, then the CSRF token (see ConnectFlow.save).
        WTF_CSRF_CHECK_DEFAULT=False,
        WTF_CSRF_TIME_LIMIT=settings.session_ttl_seconds,
        # Its https Referer check cannot work with Referrer-Policy: no-referrer; the token
        # and the SameSite session cookie remain.
        WTF_CSRF_SSL_STRICT=False,
    )
    Session(app)
    csrf = CSRFProtect(app)
    flow = ConnectFlow(
        settings,
        states=OAuthStates(settings.state_ttl_seconds, now=now, rng=rng),
        csrf=csrf,
        now=now,
        rng=rng,
        client=client
        or TikTokOAuthClient(
            settings.api_url,
            settings.app_id,
            settings.app_secret,
            timeout=settings.request_timeout,
        ),
        saver=saver,
        on_saved=on_saved,
    )
    flow.register(app)
    Guards(settings, now).register(app)
    return app


def _trusted_hosts(settings: ConnectSettings) -> list[str]:
    redirect_host = urlsplit(settings.redirect_uri).hostname or ""
    return sorted({*LOOPBACK_NAMES, redirect_host.lower()})


class Guards:
    """Request hooks: who is served, on which host name, for how long, with which headers."""

    def __init__(self, settings: ConnectSettings, now: Callable[[], datetime]) -> None:
        self.settings = settings
        self._now = now

    def register(self, app: Flask) -> None:
        app.before_request(self.refuse_remote_clients)
        app.before_request(self.send_to_canonical_origin)
        app.before_request(self.expire_idle_session)
        app.after_request(self.headers_and_access_log)
        # Links start from the mount point; the page for a refused Host header renders too,
        # where Flask cannot build URLs.
        app.context_processor(lambda: {"root": request.script_root})
        app.register_error_handler(SecurityError, self.refuse_host)
        app.register_error_handler(CSRFError, self.refuse_forged_form)

    def refuse_remote_clients(self) -> ResponseReturnValue | None:
        if self.settings.allow_remote or is_loopback_host(request.remote_addr or ""):
            return None
        return error_response(NOT_AVAILABLE)

    def refuse_host(self, _error: SecurityError) -> ResponseReturnValue:
        """A ``Host`` outside ``TRUSTED_HOSTS`` (another site's name, as in DNS rebinding)."""
        return error_response(NOT_AVAILABLE)

    def send_to_canonical_origin(self) -> ResponseReturnValue | None:
        """Send the browser to the redirect URI's own origin (localhost vs 127.0.0.1).

        The session cookie is per host: a flow started on another host name than the
        redirect URI's would fail its state check on return. The target comes from
        settings, never from the request.
        """
        if self.settings.allow_remote or request.endpoint not in ("start", "authorize"):
            return None
        if request.host.lower() == urlsplit(self.settings.redirect_uri).netloc.lower():
            return None
        return redirect(f"{self.settings.origin}{request.script_root}{request.path}", 302)

    def expire_idle_session(self) -> None:
        """Forget a session unused for ``session_ttl_seconds`` (by this app's clock)."""
        if request.endpoint == "static" or not session:
            return
        now = self._now()
        last_seen = session.get("last_seen")
        ttl = timedelta(seconds=self.settings.session_ttl_seconds)
        if isinstance(last_seen, str) and now - datetime.fromisoformat(last_seen) > ttl:
            session.clear()
        else:
            session["last_seen"] = now.isoformat()

    def headers_and_access_log(self, response: Response) -> Response:
        response.headers.update(SECURITY_HEADERS)
        # Method and path only: the callback's query string holds the auth code.
        logger.info('"%s %s" %s', request.method, request.path, response.status_code)
        return response

    def refuse_forged_form(self, _error: CSRFError) -> ResponseReturnValue:
        logger.warning("Advertiser form rejected: CSRF token missing or wrong")
        return error_response(FORM_FORGED)
