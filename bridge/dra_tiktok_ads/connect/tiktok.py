"""The three TikTok calls the connect flow makes, with errors a person can act on.

TikTok answers most errors with HTTP 200 and a non-zero ``code`` in the envelope; the message
text is the only reliable hint of *which* problem it is, so classification reads both.
Secrets (app secret, auth code, tokens) never enter an exception message.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import Any

import requests

logger = logging.getLogger(__name__)

ADVERTISER_INFO_BATCH = 100


class Problem(str, Enum):
    """What went wrong, as the pages explain it."""

    CONSENT_DENIED = "consent_denied"
    CODE_INVALID = "code_invalid"
    BAD_CREDENTIALS = "bad_credentials"
    REDIRECT_MISMATCH = "redirect_mismatch"
    NO_ADVERTISERS = "no_advertisers"
    UNREACHABLE = "unreachable"
    UNEXPECTED = "unexpected"


class TikTokError(Exception):
    """A TikTok call failed; ``problem`` says what the user can do about it."""

    def __init__(
        self, problem: Problem, message: str, *, code: int | None = None, request_id: str = ""
    ) -> None:
        super().__init__(message)
        self.problem = problem
        self.code = code
        self.request_id = request_id


@dataclass(frozen=True)
class Tokens:
    access_token: str = field(repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    token_expires_at: datetime | None = None
    advertiser_ids: tuple[str, ...] = ()
    scope: tuple[str, ...] = ()


@dataclass(frozen=True)
class Advertiser:
    advertiser_id: str
    name: str
    currency: str = ""
    timezone: str = ""


# First match wins: words in TikTok's message, then the numeric code.
_MESSAGE_HINTS: tuple[tuple[tuple[str, ...], Problem], ...] = (
    (("redirect",), Problem.REDIRECT_MISMATCH),
    (("secret", "app_id", "app id", "appid"), Problem.BAD_CREDENTIALS),
    (
        ("auth_code", "auth code", "authorization code", "expired", "already used", "been used"),
        Problem.CODE_INVALID,
    ),
)
_CODE_HINTS = {40104: Problem.CODE_INVALID, 40105: Problem.CODE_INVALID}


def classify(code: int | None, message: str) -> Problem:
    """Map a TikTok error to the problem a person can fix."""
    text = message.lower()
    for words, problem in _MESSAGE_HINTS:
        if any(word in text for word in words):
            return problem
    return _CODE_HINTS.get(code or 0, Problem.UNEXPECTED)


def _expiry(data: Mapping[str, Any], now: datetime) -> datetime | None:
    for key in ("token_expires_at", "access_token_expire_at", "expires_at"):
        value = data.get(key)
        if isinstance(value, (int, float)) and value > 0:
            return datetime.fromtimestamp(value, tz=timezone.utc)
        if isinstance(value, str) and value:
            try:
                parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    for key in ("expires_in", "access_token_expire_in", "access_token_expires_in"):
        value = data.get(key)
        if isinstance(value, (int, float)) and value > 0:
            return now + timedelta(seconds=value)
    return None


def _scrub(text: str, secret: str, access_token: str | None, body: Mapping[str, Any] | None) -> str:
    """Remove any secret TikTok might echo back in an error message."""
    hidden = [secret, access_token or ""]
    if body:
        hidden.append(str(body.get("auth_code") or ""))
    for value in hidden:
        if len(value) >= 4:
            text = text.replace(value, "[hidden]")
    return text


class TikTokOAuthClient:
    """Token exchange and advertiser listing against ``api_url`` (production or simulator)."""

    def __init__(
        self,
        api_url: str,
        app_id: str,
        app_secret: str,
        *,
        timeout: float = 30.0,
        session: requests.Session | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.app_id = app_id
        self._secret = app_secret
        self.timeout = timeout
        self._http = session or requests.Session()

    def _call(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        access_token: str | None = None,
    ) -> dict[str, Any]:
        headers = {"Accept": "application/json"}
        if access_token:
            headers["Access-Token"] = access_token
        try:
            response = self._http.request(
                method,
                f"{self.api_url}/{path}",
                params=params,
                json=body,
                headers=headers,
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            # The exception text may carry the URL, whose query can hold the app secret.
            raise TikTokError(
                Problem.UNREACHABLE,
                f"{what}: could not reach {self.api_url} ({type(exc).__name__})",
            ) from None
        try:
            envelope = response.json()
        except ValueError:
            envelope = None
        if not isinstance(envelope, dict):
            raise TikTokError(
                Problem.UNEXPECTED,
                f"{what}: TikTok answered HTTP {response.status_code} without a JSON envelope",
            )
        code = envelope.get("code")
        message = _scrub(str(envelope.get("message") or ""), self._secret, access_token, body)
        request_id = str(envelope.get("request_id") or "")
        if code != 0 or response.status_code >= 400:
            problem = classify(code if isinstance(code, int) else None, message)
            logger.warning(
                "%s failed: HTTP %s, code %s, request_id %s",
                what,
                response.status_code,
                code,
                request_id or "-",
            )
            raise TikTokError(
                problem,
                f"{what} failed: {message or 'no message'} (code {code}, request_id "
                f"{request_id or '-'})",
                code=code if isinstance(code, int) else None,
                request_id=request_id,
            )
        data = envelope.get("data")
        return data if isinstance(data, dict) else {}

    def exchange_code(self, auth_code: str, *, now: datetime) -> Tokens:
        """``POST /oauth2/access_token/``: the auth code becomes an access token."""
        data = self._call(
            "POST",
            "oauth2/access_token/",
            what="Token exchange",
            body={"app_id": self.app_id, "secret": self._secret, "auth_code": auth_code},
        )
        access_token = data.get("access_token")
        if not isinstance(access_token, str) or not access_token:
            raise TikTokError(Problem.UNEXPECTED, "Token exchange returned no access_token")
        refresh_token = data.get("refresh_token")
        scope = data.get("scope") or ()
        return Tokens(
            access_token=access_token,
            refresh_token=(refresh_token or None) if isinstance(refresh_token, str) else None,
            token_expires_at=_expiry(data, now),
            advertiser_ids=tuple(str(i) for i in data.get("advertiser_ids") or ()),
            scope=tuple(str(s) for s in scope) if isinstance(scope, list) else (str(scope),),
        )

    def list_advertisers(self, tokens: Tokens) -> list[Advertiser]:
        """Authorized advertisers (``oauth2/advertiser/get``) with details (``advertiser/info``)."""
        data = self._call(
            "GET",
            "oauth2/advertiser/get/",
            what="Listing authorized advertisers",
            params={"app_id": self.app_id, "secret": self._secret},
            access_token=tokens.access_token,
        )
        names: dict[str, str] = {}
        for item in data.get("list") or ():
            if isinstance(item, dict) and item.get("advertiser_id"):
                names[str(item["advertiser_id"])] = str(item.get("advertiser_name") or "")
        for advertiser_id in tokens.advertiser_ids:
            names.setdefault(advertiser_id, "")
        if not names:
            return []
        details = self._advertiser_info(list(names), tokens.access_token)
        result = []
        for advertiser_id, name in names.items():
            info = details.get(advertiser_id, {})
            result.append(
                Advertiser(
                    advertiser_id=advertiser_id,
                    name=str(info.get("name") or name or advertiser_id),
                    currency=str(info.get("currency") or ""),
                    # Report days follow `timezone`; `display_timezone` is only what Ads
                    # Manager shows, and can be an hour apart.
                    timezone=str(info.get("timezone") or ""),
                )
            )
        return result

    def _advertiser_info(self, ids: list[str], access_token: str) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), ADVERTISER_INFO_BATCH):
            batch = ids[start : start + ADVERTISER_INFO_BATCH]
            try:
                data = self._call(
                    "GET",
                    "advertiser/info/",
                    what="Reading advertiser details",
                    params={"advertiser_ids": json.dumps(batch)},
                    access_token=access_token,
                )
            except TikTokError as exc:
                # Names from oauth2/advertiser/get are enough to choose; details are a bonus.
                logger.warning("Advertiser details unavailable: %s", exc)
                continue
            for item in data.get("list") or ():
                if isinstance(item, dict) and item.get("advertiser_id"):
                    found[str(item["advertiser_id"])] = item
        return found
