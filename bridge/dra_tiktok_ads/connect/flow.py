"""The pages of the connect flow: start, TikTok consent, callback, advertiser picker, save, done.

What a browser's sign-in has reached lives in its server-side session (Flask-Session): the
``browser`` value binding OAuth states to it, the tokens and authorized advertisers after
sign-in (dropped once saved), and a summary of what was saved for the done page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import datetime
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlencode

from flask import Flask, current_app, redirect, render_template, request, session, url_for
from flask_session.base import ServerSideSessionInterface
from flask_wtf.csrf import CSRFProtect

from dra_tiktok_ads.connect.pages import (
    NO_CODE,
    SESSION_EXPIRED,
    UNKNOWN_ADVERTISER,
    consent_problem,
    error_response,
    problem_page,
    save_failed,
)
from dra_tiktok_ads.connect.settings import ConnectSettings
from dra_tiktok_ads.connect.states import OAuthStates
from dra_tiktok_ads.connect.tiktok import (
    Advertiser,
    Problem,
    TikTokError,
    TikTokOAuthClient,
    Tokens,
)
from tap_tiktok_ads.auth import StoredTokens

if TYPE_CHECKING:
    from flask.typing import ResponseReturnValue

    from dra_tiktok_ads.connect.saving import SavedAdvertiser, SaveResult

logger = logging.getLogger("dra_tiktok_ads.connect")


class Saver(Protocol):
    def __call__(
        self, settings: ConnectSettings, tokens: Tokens, advertisers: Sequence[Advertiser]
    ) -> SaveResult: ...


class ConnectFlow:
    """The views of the connect flow (request guards are in :mod:`.app`)."""

    def __init__(
        self,
        settings: ConnectSettings,
        *,
        states: OAuthStates,
        csrf: CSRFProtect,
        now: Callable[[], datetime],
        rng: Callable[[], str],
        client: TikTokOAuthClient,
        saver: Saver | None,
        on_saved: Callable[[SaveResult], None] | None,
    ) -> None:
        self.settings = settings
        self._states = states
        self._csrf = csrf
        self._now = now
        self._rng = rng
        self._client = client
        if saver is None:
            from dra_tiktok_ads.connect.saving import ConnectionSaver

            saver = ConnectionSaver()
        self._saver = saver
        self._on_saved = on_saved

    def register(self, app: Flask) -> None:
        app.add_url_rule("/", "start", self.start)
        app.add_url_rule("/oauth/tiktok", "authorize", self.authorize)
        app.add_url_rule("/oauth/tiktok/callback", "callback", self.callback)
        app.add_url_rule("/oauth/tiktok/advertisers", "picker", self.picker)
        app.add_url_rule("/oauth/tiktok/advertisers", "save", self.save, methods=["POST"])
        app.add_url_rule("/oauth/tiktok/done", "done", self.done)

    def start(self) -> ResponseReturnValue:
        return render_template("start.html", title="Connect TikTok Ads")

    def authorize(self) -> ResponseReturnValue:
        if "browser" not in session:
            session["browser"] = self._rng()  # what binds states to this session
            session["last_seen"] = self._now().isoformat()
        state = self._states.issue(session["browser"])
        query = urlencode(
            {
                "app_id": self.settings.app_id,
                "state": state,
                "redirect_uri": self.settings.redirect_uri,
                "scope": self.settings.scope,
            }
        )
        logger.info("Sending the browser to TikTok's consent page")
        return redirect(f"{self.settings.auth_url}?{query}", 302)

    def callback(self) -> ResponseReturnValue:
        params = request.args
        state = params.get("state", "")
        error = params.get("error", "") or params.get("error_code", "")
        code = params.get("auth_code", "") or params.get("code", "")
        if not state and error and not code:
            return self._consent_error(error)
        rejection = self._states.consume(state, session.get("browser"))
        if rejection is not None:
            logger.warning("Callback rejected: %s", rejection.title.lower())
            return error_response(rejection)
        if error and not code:
            return self._consent_error(error)
        if not code:
            return error_response(NO_CODE)
        return self._sign_in(code)

    def _sign_in(self, code: str) -> ResponseReturnValue:
        """Exchange the code, list the advertisers, and move on to the picker."""
        try:
            tokens = self._client.exchange_code(code, now=self._now())
            advertisers = self._client.list_advertisers(tokens)
        except TikTokError as exc:
            detail = str(exc) if exc.problem is Problem.UNEXPECTED else ""
            return error_response(problem_page(exc.problem, self.settings), detail)
        if not advertisers:
            logger.warning("Token exchange worked but no advertiser is authorized")
            return error_response(problem_page(Problem.NO_ADVERTISERS, self.settings))
        logger.info("Token exchange succeeded; %d advertiser(s) authorized", len(advertisers))
        # A new session id after sign-in: a planted cookie cannot ride on this login.
        interface = current_app.session_interface
        assert isinstance(interface, ServerSideSessionInterface)
        interface.regenerate(session)
        session["tokens"] = _tokens_to_session(tokens)
        session["advertisers"] = [asdict(a) for a in advertisers]
        session.pop("saved", None)
        session.pop("csrf_token", None)  # a fresh form token for this sign-in
        return redirect(url_for("picker"), 303)

    def picker(self) -> ResponseReturnValue:
        if "tokens" not in session:
            if "saved" in session:
                return redirect(url_for("done"), 303)
            return error_response(SESSION_EXPIRED)
        return self._picker_page(HTTPStatus.OK)

    def _picker_page(self, status: HTTPStatus, notice: str = "") -> ResponseReturnValue:
        return (
            render_template(
                "picker.html",
                title="Choose advertisers",
                advertisers=_advertisers_from_session(),
                notice=notice,
            ),
            status,
        )

    def save(self) -> ResponseReturnValue:
        if "tokens" not in session:
            return error_response(SESSION_EXPIRED)
        self._csrf.protect()
        chosen_ids = list(dict.fromkeys(request.form.getlist("advertiser_id")))
        authorized = _advertisers_from_session()
        if any(i not in {a.advertiser_id for a in authorized} for i in chosen_ids):
            return error_response(UNKNOWN_ADVERTISER)
        if not chosen_ids:
            return self._picker_page(HTTPStatus.BAD_REQUEST, "Choose at least one advertiser.")
        chosen = [a for a in authorized if a.advertiser_id in chosen_ids]
        tokens = _tokens_from_session()
        try:
            result = self._saver(self.settings, tokens, chosen)
        except Exception as exc:
            reason = _safe_reason(exc, tokens, self.settings)
            logger.error("Saving the connection failed: %s", reason)
            return error_response(save_failed(reason))
        session.pop("tokens")  # the secrets now live in the token store only
        session.pop("csrf_token", None)
        session["saved"] = _saved_summary(result)
        logger.info(
            "Saved the TikTok Ads connection for %d advertiser(s) to %s",
            len(chosen),
            ", ".join(str(a.token_store_path) for a in result.advertisers),
        )
        if self._on_saved is not None:
            self._on_saved(result)
        return redirect(url_for("done"), 303)

    def done(self) -> ResponseReturnValue:
        saved = session.get("saved")
        if not isinstance(saved, dict):
            return error_response(SESSION_EXPIRED)
        return render_template("done.html", title="TikTok Ads connected", saved=saved)

    def _consent_error(self, error: str) -> ResponseReturnValue:
        """TikTok came back with an error instead of a code; no token request is made."""
        problem = consent_problem(error, request.args.get("error_description", ""))
        logger.warning("TikTok returned an error instead of a code: %s", problem.value)
        return error_response(problem_page(problem, self.settings))


def _tokens_to_session(tokens: Tokens) -> dict[str, Any]:
    return StoredTokens(
        tokens.access_token, tokens.refresh_token, tokens.token_expires_at
    ).to_json()


def _tokens_from_session() -> Tokens:
    stored = StoredTokens.from_json(session["tokens"])
    return Tokens(stored.access_token, stored.refresh_token, stored.token_expires_at)


def _advertisers_from_session() -> list[Advertiser]:
    return [Advertiser(**item) for item in session.get("advertisers", [])]


def _saved_summary(result: SaveResult) -> dict[str, Any]:
    """What the done page shows (plain values, kept in the session; no secrets)."""
    if result.data_source_ids:
        platform = "dra_data_sources (connection details encrypted)"
    else:
        platform = f"not registered, {result.platform_skipped_reason}"
    return {
        "advertisers": [
            {
                "name": a.name,
                "advertiser_id": a.advertiser_id,
                "data_source_id": a.data_source_id,
                "token_store": str(a.token_store_path),
                "sync_command": sync_command(a),
            }
            for a in result.advertisers
        ],
        "env_file": str(result.env_file) if result.env_file is not None else None,
        "env_keys": ", ".join(result.env_keys),
        "platform": platform,
    }


def sync_command(advertiser: SavedAdvertiser) -> str:
    """How to sync this one advertiser now: the runner for a data source, else Meltano."""
    if advertiser.data_source_id is not None:
        return f"tap-tiktok-ads-sync --data-source {advertiser.data_source_id}"
    return (
        f"TAP_TIKTOK_ADS_TOKEN_STORE_PATH={advertiser.token_store_path} "
        "meltano run tap-tiktok-ads target-postgres dbt-postgres:build"
    )


def _safe_reason(exc: BaseException, tokens: Tokens, settings: ConnectSettings) -> str:
    """A one-line reason for a failed save, with every secret removed."""
    lines = str(exc).strip().splitlines()
    reason = lines[0] if lines else ""
    for secret in (tokens.access_token, tokens.refresh_token, settings.app_secret):
        if secret:
            reason = reason.replace(secret, "[hidden]")
    return f"{type(exc).__name__}: {reason}" if reason else type(exc).__name__
