"""The connect flow as a WSGI application: start page, TikTok consent, advertiser picker, save.

Routes (relative to the mount point, ``SCRIPT_NAME``)::

    GET  /                          start page ("Connect TikTok Ads")
    GET  /oauth/tiktok              redirect to TikTok's consent page with a fresh state
    GET  /oauth/tiktok/callback     check state, exchange the code, list advertisers
    GET  /oauth/tiktok/advertisers  the picker
    POST /oauth/tiktok/advertisers  save the chosen advertisers (CSRF token required)
    GET  /oauth/tiktok/done         what was saved
    GET  /static/<file>             logo and stylesheet

Security: the state is random, bound to an HttpOnly SameSite=Lax session cookie, single-use
and short-lived; tokens stay server-side in the session and are dropped once saved; every
redirect target is built from settings, never from the request; by default only loopback
clients with a loopback ``Host`` are served (which also defeats DNS rebinding).
"""

from __future__ import annotations

import hmac
import html
import logging
import secrets
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import cache
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie
from importlib import resources
from string import Template
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qs, urlencode, urlsplit

from dra_tiktok_ads.connect.settings import ConnectSettings, is_loopback_host
from dra_tiktok_ads.connect.tiktok import (
    Advertiser,
    Problem,
    TikTokError,
    TikTokOAuthClient,
    Tokens,
)

if TYPE_CHECKING:
    from dra_tiktok_ads.connect.saving import SaveResult

logger = logging.getLogger("dra_tiktok_ads.connect")

SESSION_COOKIE = "tiktok_connect_session"
MAX_SESSIONS = 1000
MAX_FORM_BYTES = 64 * 1024
STATIC_FILES = {"connect.css": "text/css; charset=utf-8", "tiktok-logo.svg": "image/svg+xml"}
SECURITY_HEADERS = [
    ("Cache-Control", "no-store"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    (
        "Content-Security-Policy",
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'",
    ),
]

StartResponse = Callable[..., Any]
Environ = dict[str, Any]


class Saver(Protocol):
    def __call__(
        self, settings: ConnectSettings, tokens: Tokens, advertisers: Sequence[Advertiser]
    ) -> SaveResult: ...


class Markup(str):
    """Already-escaped HTML: inserted into a template as is."""

    __slots__ = ()


@cache
def _template(name: str) -> Template:
    source = resources.files("dra_tiktok_ads.connect").joinpath("templates", name)
    return Template(source.read_text(encoding="utf-8"))


@cache
def _static(name: str) -> bytes:
    return resources.files("dra_tiktok_ads.connect").joinpath("static", name).read_bytes()


def render(template: str, /, **values: object) -> Markup:
    """Fill a template; every value is HTML-escaped unless it is ``Markup``."""
    escaped = {
        key: value if isinstance(value, Markup) else html.escape(str(value), quote=True)
        for key, value in values.items()
    }
    return Markup(_template(template).substitute(escaped))


@dataclass(frozen=True)
class ErrorPage:
    status: HTTPStatus
    title: str
    message: str
    fix: str


STATE_MISSING = ErrorPage(
    HTTPStatus.BAD_REQUEST,
    "Connection not started here",
    "This sign-in response has no security check (state), so it was not used.",
    "Start the connection from this app's start page, not from a bookmark or a shared link.",
)
STATE_MISMATCH = ErrorPage(
    HTTPStatus.BAD_REQUEST,
    "Security check failed",
    "The security check (state) does not belong to a sign-in started in this browser.",
    "Start again from the start page in this browser. If you did not just try to connect "
    "TikTok Ads, close this page: the link may have been forged.",
)
STATE_REUSED = ErrorPage(
    HTTPStatus.BAD_REQUEST,
    "Sign-in already used",
    "This TikTok sign-in response was already used once and cannot be used again.",
    "Start again to sign in afresh; avoid reloading the callback page.",
)
STATE_EXPIRED = ErrorPage(
    HTTPStatus.BAD_REQUEST,
    "Sign-in took too long",
    "The sign-in was started too long ago and has expired.",
    "Start again and finish the TikTok step within 10 minutes.",
)
SESSION_EXPIRED = ErrorPage(
    HTTPStatus.BAD_REQUEST,
    "Session expired",
    "This browser has no TikTok sign-in waiting to be saved (it expired or was already saved).",
    "Start again to connect TikTok Ads.",
)
FORM_FORGED = ErrorPage(
    HTTPStatus.FORBIDDEN,
    "Security check failed",
    "The advertiser form did not carry this session's security token.",
    "Reload the advertiser page from this app and submit it again.",
)
NO_CODE = ErrorPage(
    HTTPStatus.BAD_REQUEST,
    "No authorization code",
    "TikTok sent the browser back without an authorization code.",
    "Start again and choose Authorize on TikTok's page.",
)
UNKNOWN_ADVERTISER = ErrorPage(
    HTTPStatus.BAD_REQUEST,
    "Unknown advertiser",
    "The form named an advertiser that this TikTok sign-in did not authorize.",
    "Go back to the advertiser list and choose from it.",
)


def problem_page(problem: Problem, settings: ConnectSettings) -> ErrorPage:
    """The page for a TikTok-side problem, with what the user should do."""
    pages = {
        Problem.CONSENT_DENIED: ErrorPage(
            HTTPStatus.FORBIDDEN,
            "Access not granted",
            "TikTok did not grant access: the authorization was declined.",
            "Start again and choose Authorize on TikTok's page. You need access to at least "
            "one ad account in TikTok Ads Manager.",
        ),
        Problem.CODE_INVALID: ErrorPage(
            HTTPStatus.BAD_REQUEST,
            "Authorization code expired or used",
            "TikTok refused the authorization code: it has expired or was already used.",
            "Codes are valid for a short time and only once. Start again to get a fresh one.",
        ),
        Problem.BAD_CREDENTIALS: ErrorPage(
            HTTPStatus.BAD_GATEWAY,
            "App credentials rejected",
            "TikTok rejected this app's credentials.",
            "Check TIKTOK_ADS_APP_ID and TIKTOK_ADS_APP_SECRET against your app in the TikTok "
            "for Business developer portal (My Apps), then restart tap-tiktok-ads-connect.",
        ),
        Problem.REDIRECT_MISMATCH: ErrorPage(
            HTTPStatus.BAD_REQUEST,
            "Redirect URI does not match",
            "The redirect URI does not match the one registered for the TikTok app.",
            f"Register exactly {settings.redirect_uri} as the app's redirect URL in the TikTok "
            "developer portal, or set TIKTOK_ADS_REDIRECT_URI to the registered URL, and open "
            "this app at that address.",
        ),
        Problem.NO_ADVERTISERS: ErrorPage(
            HTTPStatus.CONFLICT,
            "No advertisers authorized",
            "The sign-in worked, but no advertiser account was authorized for this app.",
            "Start again and tick at least one ad account on TikTok's page. If none is listed, "
            "ask an admin of the account in TikTok Business Center to give you access.",
        ),
        Problem.UNREACHABLE: ErrorPage(
            HTTPStatus.BAD_GATEWAY,
            "TikTok unreachable",
            "TikTok's API could not be reached.",
            f"Check the network and TIKTOK_ADS_API_URL ({settings.api_url}), then start again.",
        ),
        Problem.UNEXPECTED: ErrorPage(
            HTTPStatus.BAD_GATEWAY,
            "TikTok error",
            "TikTok answered with an unexpected error.",
            "Start again. If it keeps failing, give TikTok support the request id below.",
        ),
    }
    return pages[problem]


@dataclass
class _Session:
    sid: str
    last_seen: datetime
    states: dict[str, datetime] = field(default_factory=dict)
    used_states: set[str] = field(default_factory=set)
    csrf_token: str = ""
    tokens: Tokens | None = None
    advertisers: list[Advertiser] = field(default_factory=list)
    saved: tuple[SaveResult, list[Advertiser]] | None = None


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _new_token() -> str:
    return secrets.token_urlsafe(32)


class ConnectApp:
    """WSGI application for the TikTok Ads connect flow; one instance serves many browsers.

    ``now`` and ``rng`` (a factory of unguessable tokens) exist for tests; ``client`` talks to
    TikTok; ``saver`` stores a chosen connection (default: token store, .env, platform);
    ``on_saved`` is told when a connection was saved (the CLI stops then).
    """

    def __init__(
        self,
        settings: ConnectSettings,
        *,
        now: Callable[[], datetime] = _utcnow,
        rng: Callable[[], str] = _new_token,
        client: TikTokOAuthClient | None = None,
        saver: Saver | None = None,
        on_saved: Callable[[SaveResult], None] | None = None,
    ) -> None:
        self.settings = settings
        self._now = now
        self._rng = rng
        self._client = client or TikTokOAuthClient(
            settings.api_url,
            settings.app_id,
            settings.app_secret,
            timeout=settings.request_timeout,
        )
        if saver is None:
            from dra_tiktok_ads.connect.saving import ConnectionSaver

            saver = ConnectionSaver()
        self._saver = saver
        self._on_saved = on_saved
        self._sessions: dict[str, _Session] = {}
        self._lock = threading.Lock()

    # --- WSGI entry point -------------------------------------------------------------

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        request = _Request(environ)
        if not self._client_allowed(request):
            return self._page(
                start_response,
                request,
                ErrorPage(
                    HTTPStatus.FORBIDDEN,
                    "Not available here",
                    "This connect page only answers on this computer (127.0.0.1).",
                    "Open it on the computer that runs tap-tiktok-ads-connect.",
                ),
            )
        routes: dict[tuple[str, str], Callable[[_Request, StartResponse], Iterable[bytes]]] = {
            ("GET", "/"): self._start,
            ("GET", "/oauth/tiktok"): self._authorize,
            ("GET", "/oauth/tiktok/callback"): self._callback,
            ("GET", "/oauth/tiktok/advertisers"): self._picker,
            ("POST", "/oauth/tiktok/advertisers"): self._save,
            ("GET", "/oauth/tiktok/done"): self._done,
        }
        method = "GET" if request.method == "HEAD" else request.method
        path = request.path.rstrip("/") or "/"
        handler = routes.get((method, path))
        if handler is not None:
            return handler(request, start_response)
        if method == "GET" and path.startswith("/static/"):
            return self._static_file(path.removeprefix("/static/"), start_response)
        if any(p == path for _, p in routes):
            return _plain(start_response, HTTPStatus.METHOD_NOT_ALLOWED)
        return _plain(start_response, HTTPStatus.NOT_FOUND)

    def _client_allowed(self, request: _Request) -> bool:
        if self.settings.allow_remote:
            return True
        host = urlsplit(f"//{request.host}").hostname or ""
        return is_loopback_host(request.remote_addr) and is_loopback_host(host)

    # --- pages --------------------------------------------------------------------------

    def _start(self, request: _Request, start_response: StartResponse) -> Iterable[bytes]:
        canonical = self._canonical_redirect(request, start_response)
        if canonical is not None:
            return canonical
        body = render("start.html", root=request.root)
        return self._html(
            start_response, request, status=HTTPStatus.OK, title="Connect TikTok Ads", body=body
        )

    def _authorize(self, request: _Request, start_response: StartResponse) -> Iterable[bytes]:
        canonical = self._canonical_redirect(request, start_response)
        if canonical is not None:
            return canonical
        session, is_new = self._session(request, create=True)
        assert session is not None
        state = self._rng()
        with self._lock:
            self._expire_states(session)
            session.states[state] = self._now()
        query = urlencode(
            {
                "app_id": self.settings.app_id,
                "state": state,
                "redirect_uri": self.settings.redirect_uri,
                "scope": self.settings.scope,
            }
        )
        logger.info("Sending the browser to TikTok's consent page")
        headers = [("Location", f"{self.settings.auth_url}?{query}")]
        if is_new:
            headers.append(self._cookie(session.sid, request))
        return _plain(start_response, HTTPStatus.FOUND, headers)

    def _callback(self, request: _Request, start_response: StartResponse) -> Iterable[bytes]:
        params = request.query
        state = params.get("state", "")
        error = params.get("error", "") or params.get("error_code", "")
        code = params.get("auth_code", "") or params.get("code", "")
        session, _ = self._session(request, create=False)
        if not state and error and not code:
            return self._consent_error(request, start_response, error)
        rejection = self._check_state(session, state)
        if rejection is not None:
            logger.warning("Callback rejected: %s", rejection.title.lower())
            return self._page(start_response, request, rejection)
        assert session is not None
        if error and not code:
            return self._consent_error(request, start_response, error)
        if not code:
            return self._page(start_response, request, NO_CODE)
        return self._sign_in(request, start_response, session, code)

    def _sign_in(
        self, request: _Request, start_response: StartResponse, session: _Session, code: str
    ) -> Iterable[bytes]:
        """Exchange the code, list the advertisers, and move on to the picker."""
        try:
            tokens = self._client.exchange_code(code, now=self._now())
            advertisers = self._client.list_advertisers(tokens)
        except TikTokError as exc:
            detail = str(exc) if exc.problem is Problem.UNEXPECTED else ""
            return self._page(
                start_response, request, problem_page(exc.problem, self.settings), detail
            )
        if not advertisers:
            logger.warning("Token exchange worked but no advertiser is authorized")
            return self._page(
                start_response, request, problem_page(Problem.NO_ADVERTISERS, self.settings)
            )
        logger.info("Token exchange succeeded; %d advertiser(s) authorized", len(advertisers))
        # A new session id after sign-in: a planted cookie cannot ride on this login.
        with self._lock:
            self._sessions.pop(session.sid, None)
            session.sid = self._rng()
            session.tokens = tokens
            session.advertisers = advertisers
            session.csrf_token = self._rng()
            session.saved = None
            self._sessions[session.sid] = session
        return _plain(
            start_response,
            HTTPStatus.SEE_OTHER,
            [
                ("Location", f"{request.root}/oauth/tiktok/advertisers"),
                self._cookie(session.sid, request),
            ],
        )

    def _picker(self, request: _Request, start_response: StartResponse) -> Iterable[bytes]:
        session, _ = self._session(request, create=False)
        if session is None or session.tokens is None:
            if session is not None and session.saved is not None:
                return _plain(
                    start_response,
                    HTTPStatus.SEE_OTHER,
                    [("Location", f"{request.root}/oauth/tiktok/done")],
                )
            return self._page(start_response, request, SESSION_EXPIRED)
        return self._picker_page(start_response, request, session, HTTPStatus.OK)

    def _picker_page(
        self,
        start_response: StartResponse,
        request: _Request,
        session: _Session,
        status: HTTPStatus,
        notice: str = "",
    ) -> Iterable[bytes]:
        only_one = len(session.advertisers) == 1
        rows = "\n".join(
            render(
                "picker_row.html",
                advertiser_id=a.advertiser_id,
                name=a.name,
                currency=a.currency or "-",
                timezone=a.timezone or "-",
                checked=Markup(" checked" if only_one else ""),
            )
            for a in session.advertisers
        )
        body = render(
            "picker.html",
            root=request.root,
            csrf_token=session.csrf_token,
            rows=Markup(rows),
            notice=Markup(
                f'<p class="notice" id="notice">{html.escape(notice)}</p>' if notice else ""
            ),
        )
        return self._html(
            start_response, request, status=status, title="Choose advertisers", body=body
        )

    def _save(self, request: _Request, start_response: StartResponse) -> Iterable[bytes]:
        session, _ = self._session(request, create=False)
        if session is None or session.tokens is None:
            return self._page(start_response, request, SESSION_EXPIRED)
        form = request.form()
        if not hmac.compare_digest(
            form.get("csrf_token", [""])[0].encode(), session.csrf_token.encode()
        ):
            logger.warning("Advertiser form rejected: CSRF token mismatch")
            return self._page(start_response, request, FORM_FORGED)
        chosen_ids = list(dict.fromkeys(form.get("advertiser_id", [])))
        authorized = {a.advertiser_id: a for a in session.advertisers}
        if any(advertiser_id not in authorized for advertiser_id in chosen_ids):
            return self._page(start_response, request, UNKNOWN_ADVERTISER)
        if not chosen_ids:
            return self._picker_page(
                start_response,
                request,
                session,
                HTTPStatus.BAD_REQUEST,
                "Choose at least one advertiser.",
            )
        chosen = [a for a in session.advertisers if a.advertiser_id in chosen_ids]
        try:
            result = self._saver(self.settings, session.tokens, chosen)
        except Exception as exc:
            reason = _safe_reason(exc, session.tokens, self.settings)
            logger.error("Saving the connection failed: %s", reason)
            page = ErrorPage(
                HTTPStatus.INTERNAL_SERVER_ERROR,
                "Saving failed",
                f"The connection could not be saved: {reason}",
                "Fix the problem named above and save again.",
            )
            return self._page(start_response, request, page)
        with self._lock:
            session.tokens = None  # the secrets now live in the token store only
            session.csrf_token = ""
            session.saved = (result, chosen)
        logger.info(
            "Saved the TikTok Ads connection for %d advertiser(s) to %s",
            len(chosen),
            result.token_store_path,
        )
        if self._on_saved is not None:
            self._on_saved(result)
        return _plain(
            start_response,
            HTTPStatus.SEE_OTHER,
            [("Location", f"{request.root}/oauth/tiktok/done")],
        )

    def _done(self, request: _Request, start_response: StartResponse) -> Iterable[bytes]:
        session, _ = self._session(request, create=False)
        if session is None or session.saved is None:
            return self._page(start_response, request, SESSION_EXPIRED)
        result, chosen = session.saved
        advertisers = "\n".join(
            f"<li>{html.escape(a.name)} <span class='mono'>{html.escape(a.advertiser_id)}</span>"
            + (
                f" (data source {result.data_source_ids[a.advertiser_id]})"
                if a.advertiser_id in result.data_source_ids
                else ""
            )
            + "</li>"
            for a in chosen
        )
        locations = [f"Token store: <code>{html.escape(str(result.token_store_path))}</code>"]
        if result.env_file is not None:
            locations.append(
                f"Meltano settings: <code>{html.escape(str(result.env_file))}</code> "
                f"({html.escape(', '.join(result.env_keys))})"
            )
        if result.data_source_ids:
            locations.append("Platform: dra_data_sources (connection details encrypted)")
        elif result.platform_skipped_reason:
            skipped = html.escape(result.platform_skipped_reason)
            locations.append(f"Platform: not registered, {skipped}")
        body = render(
            "done.html",
            count=len(chosen),
            advertisers=Markup(advertisers),
            locations=Markup("\n".join(f"<li>{item}</li>" for item in locations)),
        )
        return self._html(
            start_response, request, status=HTTPStatus.OK, title="TikTok Ads connected", body=body
        )

    def _consent_error(
        self, request: _Request, start_response: StartResponse, error: str
    ) -> Iterable[bytes]:
        """TikTok came back with an error instead of a code; no token request is made."""
        text = f"{error} {request.query.get('error_description', '')}".lower()
        problem = Problem.CONSENT_DENIED
        if "redirect" in text:
            problem = Problem.REDIRECT_MISMATCH
        elif "advertiser" in text:
            problem = Problem.NO_ADVERTISERS
        logger.warning("TikTok returned an error instead of a code: %s", problem.value)
        return self._page(start_response, request, problem_page(problem, self.settings))

    # --- state and sessions ---------------------------------------------------------------

    def _check_state(self, session: _Session | None, state: str) -> ErrorPage | None:
        """Consume ``state``; return the page to show when it must be rejected."""
        if not state:
            return STATE_MISSING
        if session is None:
            return STATE_MISMATCH
        with self._lock:
            if state in session.used_states:
                return STATE_REUSED
            issued = session.states.pop(state, None)
            if issued is None:
                return STATE_MISMATCH
            session.used_states.add(state)
        if self._now() - issued > timedelta(seconds=self.settings.state_ttl_seconds):
            return STATE_EXPIRED
        return None

    def _expire_states(self, session: _Session) -> None:
        limit = self._now() - timedelta(seconds=self.settings.state_ttl_seconds)
        for state, issued in list(session.states.items()):
            if issued < limit:
                del session.states[state]
                session.used_states.add(state)

    def _session(self, request: _Request, *, create: bool) -> tuple[_Session | None, bool]:
        now = self._now()
        sid = request.cookie(SESSION_COOKIE)
        ttl = timedelta(seconds=self.settings.session_ttl_seconds)
        with self._lock:
            for key, stale in list(self._sessions.items()):
                if now - stale.last_seen > ttl:
                    del self._sessions[key]
            session = self._sessions.get(sid) if sid else None
            if session is not None:
                session.last_seen = now
                return session, False
            if not create:
                return None, False
            if len(self._sessions) >= MAX_SESSIONS:
                oldest = min(self._sessions.values(), key=lambda s: s.last_seen)
                del self._sessions[oldest.sid]
            session = _Session(sid=self._rng(), last_seen=now)
            self._sessions[session.sid] = session
            return session, True

    def _cookie(self, sid: str, request: _Request) -> tuple[str, str]:
        value = f"{SESSION_COOKIE}={sid}; Path={request.root or '/'}; HttpOnly; SameSite=Lax"
        if self.settings.secure_cookies:
            value += "; Secure"
        return ("Set-Cookie", value)

    def _canonical_redirect(
        self, request: _Request, start_response: StartResponse
    ) -> Iterable[bytes] | None:
        """Send the browser to the redirect URI's own origin (localhost vs 127.0.0.1).

        The session cookie is per host: a flow started on another host name than the
        redirect URI's would fail its state check on return. The target comes from
        settings, never from the request.
        """
        expected = urlsplit(self.settings.redirect_uri).netloc.lower()
        if self.settings.allow_remote or not request.host or request.host.lower() == expected:
            return None
        return _plain(
            start_response,
            HTTPStatus.FOUND,
            [("Location", f"{self.settings.origin}{request.root}{request.path}")],
        )

    # --- responses ----------------------------------------------------------------------------

    def _page(
        self, start_response: StartResponse, request: _Request, page: ErrorPage, detail: str = ""
    ) -> Iterable[bytes]:
        body = render(
            "error.html",
            root=request.root,
            message=page.message,
            fix=page.fix,
            detail=Markup(
                f'<p class="fine" id="error-detail">{html.escape(detail)}</p>' if detail else ""
            ),
        )
        return self._html(
            start_response,
            request,
            status=page.status,
            title=page.title,
            body=body,
            card_class=" error",
        )

    def _html(
        self,
        start_response: StartResponse,
        request: _Request,
        *,
        status: HTTPStatus,
        title: str,
        body: str,
        card_class: str = "",
    ) -> Iterable[bytes]:
        page = render(
            "base.html",
            title=title,
            root=request.root,
            body=Markup(body),
            card_class=card_class,
        ).encode("utf-8")
        headers = [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Length", str(len(page))),
            *SECURITY_HEADERS,
        ]
        start_response(f"{status.value} {status.phrase}", headers)
        return [b"" if request.method == "HEAD" else page]

    def _static_file(self, name: str, start_response: StartResponse) -> Iterable[bytes]:
        content_type = STATIC_FILES.get(name)
        if content_type is None:
            return _plain(start_response, HTTPStatus.NOT_FOUND)
        data = _static(name)
        start_response(
            "200 OK",
            [
                ("Content-Type", content_type),
                ("Content-Length", str(len(data))),
                ("Cache-Control", "max-age=3600"),
                ("X-Content-Type-Options", "nosniff"),
            ],
        )
        return [data]


def _plain(
    start_response: StartResponse,
    status: HTTPStatus,
    headers: Sequence[tuple[str, str]] = (),
) -> Iterable[bytes]:
    body = status.phrase.encode()
    start_response(
        f"{status.value} {status.phrase}",
        [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
            *SECURITY_HEADERS,
            *headers,
        ],
    )
    return [body]


def _safe_reason(exc: BaseException, tokens: Tokens, settings: ConnectSettings) -> str:
    """A one-line reason for a failed save, with every secret removed."""
    lines = str(exc).strip().splitlines()
    reason = lines[0] if lines else ""
    for secret in (tokens.access_token, tokens.refresh_token, settings.app_secret):
        if secret:
            reason = reason.replace(secret, "[hidden]")
    return f"{type(exc).__name__}: {reason}" if reason else type(exc).__name__


class _Request:
    """The few parts of a WSGI environ the app reads."""

    def __init__(self, environ: Environ) -> None:
        self.environ = environ
        self.method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        self.root = str(environ.get("SCRIPT_NAME", "")).rstrip("/")
        self.path = str(environ.get("PATH_INFO", "")) or "/"
        self.host = str(environ.get("HTTP_HOST", ""))
        self.remote_addr = str(environ.get("REMOTE_ADDR", ""))

    @property
    def query(self) -> dict[str, str]:
        parsed = parse_qs(str(self.environ.get("QUERY_STRING", "")))
        return {key: values[0] for key, values in parsed.items()}

    def cookie(self, name: str) -> str:
        try:
            jar = SimpleCookie(str(self.environ.get("HTTP_COOKIE", "")))
        except CookieError:
            return ""
        morsel = jar.get(name)
        return morsel.value if morsel is not None else ""

    def form(self) -> dict[str, list[str]]:
        content_type = str(self.environ.get("CONTENT_TYPE", "")).split(";")[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            return {}
        try:
            length = int(self.environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return {}
        if length <= 0 or length > MAX_FORM_BYTES:
            return {}
        raw = self.environ["wsgi.input"].read(length)
        return parse_qs(raw.decode("utf-8", errors="replace"))
