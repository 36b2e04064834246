"""Access tokens: the header TikTok wants, refresh before expiry, and a crash-safe token store.

Marketing API advertiser tokens (``POST /oauth2/access_token/`` with ``app_id``, ``secret`` and
``auth_code``; response ``access_token``, ``advertiser_ids``, ``scope``) are long-term: they do
not expire and end only when the advertiser withdraws the authorization or the token is
revoked (TikTok's Authentication doc 1738373164380162 and Oauth2 Access Token doc
1739965703387137). They are used as they are: the default. TikTok documents expiring tokens only
for TikTok *account* ("tt_user") authorizations: a 24-hour access token with a one-year refresh
token that *rotates* (``/tt_user/oauth2/refresh_token/``, body ``client_id``, ``client_secret``,
``grant_type: "refresh_token"``, ``refresh_token``; response ``access_token``, ``expires_in``,
``refresh_token``, ``refresh_token_expires_in``). For integrations that get expiring tokens the
tap refreshes at the configured path with both spellings of the app's credentials, and
persists the new refresh token to the token store (atomically, mode 0600) before the new access
token is used for anything: the old one is dead, and losing the new one loses access.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import requests

#: Refresh this long before the recorded expiry, so a page fetch never races the clock.
REFRESH_MARGIN = timedelta(minutes=5)


class TokenError(Exception):
    """The tokens cannot be used or renewed; the message says what to do."""


@dataclass(frozen=True)
class StoredTokens:
    """What the connect flow saves and the tap keeps current."""

    access_token: str
    refresh_token: str | None = None
    token_expires_at: datetime | None = None
    advertiser_ids: list[str] = field(default_factory=list)

    def __repr__(self) -> str:  # secrets stay out of logs and tracebacks
        return (
            f"StoredTokens(access_token=<redacted>, refresh_token="
            f"{'<redacted>' if self.refresh_token else None}, "
            f"token_expires_at={self.token_expires_at!r}, advertiser_ids={self.advertiser_ids!r})"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "token_expires_at": (
                self.token_expires_at.isoformat() if self.token_expires_at else None
            ),
            "advertiser_ids": list(self.advertiser_ids),
            "updated_at": datetime.now(timezone.utc).isoformat(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StoredTokens:
        access_token = data.get("access_token")
        if not isinstance(access_token, str) or not access_token:
            msg = "has no access_token"
            raise ValueError(msg)
        expires = data.get("token_expires_at")
        return cls(
            access_token=access_token,
            refresh_token=data.get("refresh_token") or None,
            token_expires_at=parse_utc_datetime(expires) if expires else None,
            advertiser_ids=[str(i) for i in data.get("advertiser_ids") or []],
        )


def parse_utc_datetime(value: str) -> datetime:
    """Parse an ISO-8601 date-time; a value without zone is taken as UTC."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


class TokenStore:
    """The current tokens in a JSON file, shared by the connect flow, the tap and the runner."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def load(self) -> StoredTokens | None:
        """The stored tokens, or None when there is no store yet."""
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            msg = (
                f"token_store_path {self.path} cannot be read ({exc.strerror}); fix its permissions"
            )
            raise TokenError(msg) from None
        try:
            return StoredTokens.from_json(json.loads(raw))
        except (ValueError, TypeError, AttributeError) as exc:
            msg = (
                f"token_store_path {self.path} is not a valid token store ({exc}); "
                "reconnect the account or remove the file"
            )
            raise TokenError(msg) from None

    def save(self, tokens: StoredTokens) -> None:
        """Replace the store atomically: a crash leaves either the old file or the new one."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(tokens.to_json(), handle, indent=2)
                handle.flush()
                os.fsync(handle.fileno())
            Path(temp_name).replace(self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                Path(temp_name).unlink()
            raise
        with contextlib.suppress(OSError):  # make the rename itself durable
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)


@dataclass(frozen=True)
class RefreshSettings:
    """What a refresh call needs besides the refresh token."""

    url: str
    app_id: str
    app_secret: str


class TokenManager:
    """Hands out a valid access token; refreshes it before expiry or once after a 40105."""

    def __init__(
        self,
        tokens: StoredTokens,
        *,
        refresh: RefreshSettings | None,
        store: TokenStore | None,
        post: Callable[..., requests.Response],
        timeout: float,
        now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        self._tokens = tokens
        self._refresh = refresh
        self._store = store
        self._post = post
        self._timeout = timeout
        self._now = now
        self._lock = threading.Lock()

    @property
    def can_refresh(self) -> bool:
        return bool(self._refresh and self._tokens.refresh_token)

    def secrets(self) -> list[str]:
        """Every secret value currently in play, for log redaction."""
        values = [self._tokens.access_token, self._tokens.refresh_token]
        if self._refresh:
            values.append(self._refresh.app_secret)
        return [v for v in values if v]

    def access_token(self) -> str:
        """The token to send now, refreshed first if it is about to expire."""
        with self._lock:
            expires = self._tokens.token_expires_at
            if expires is not None and self._now() >= expires - REFRESH_MARGIN:
                if not self.can_refresh:
                    msg = (
                        f"access_token expired at {expires.isoformat()} and no refresh_token/"
                        "app_id/app_secret are configured; reconnect the account "
                        "(tap-tiktok-ads-connect) or set a new access_token"
                    )
                    raise TokenError(msg)
                self._refresh_locked()
            return self._tokens.access_token

    def renew_after_rejection(self, rejected_token: str) -> bool:
        """After a 40105: refresh once if that token is still current. False if we cannot."""
        with self._lock:
            if self._tokens.access_token != rejected_token:
                return True  # another thread already renewed it
            if not self.can_refresh:
                return False
            self._refresh_locked()
            return True

    def _refresh_locked(self) -> None:
        assert self._refresh is not None
        assert self._tokens.refresh_token is not None
        try:
            response = self._post(
                self._refresh.url,
                json={
                    # Marketing API spelling (as /oauth2/access_token/) and the documented
                    # tt_user refresh spelling, so either form of the endpoint is answered.
                    "app_id": self._refresh.app_id,
                    "secret": self._refresh.app_secret,
                    "client_id": self._refresh.app_id,
                    "client_secret": self._refresh.app_secret,
                    "refresh_token": self._tokens.refresh_token,
                    "grant_type": "refresh_token",
                },
                timeout=self._timeout,
                # The session's own auth would ask this manager for a token: a deadlock.
                auth=_without_session_auth,
            )
            body = response.json()
        except (requests.RequestException, ValueError) as exc:
            # The exception text may carry the request; keep only its kind.
            msg = f"token refresh failed: {type(exc).__name__}; will not retry with a stale token"
            raise TokenError(msg) from None
        if not isinstance(body, dict):
            body = {}
        data = body.get("data") or {}
        if response.status_code != 200 or body.get("code") != 0 or not data.get("access_token"):
            msg = (
                f"token refresh was refused (code {body.get('code')}, "
                f"request_id {body.get('request_id')}): "
                "the refresh token is invalid or already used; reconnect the account "
                "with tap-tiktok-ads-connect"
            )
            raise TokenError(msg)
        # Seconds left: documented as expires_in; some integrations report access_token_expire_in.
        lifetime = data.get("expires_in") or data.get("access_token_expire_in")
        renewed = replace(
            self._tokens,
            access_token=data["access_token"],
            refresh_token=data.get("refresh_token") or self._tokens.refresh_token,
            token_expires_at=(self._now() + timedelta(seconds=int(lifetime)) if lifetime else None),
        )
        # Persist before first use: the old refresh token is already dead.
        if self._store is not None:
            self._store.save(renewed)
        self._tokens = renewed


def _without_session_auth(request: requests.PreparedRequest) -> requests.PreparedRequest:
    return request


class AccessTokenAuth(requests.auth.AuthBase):
    """Adds ``Access-Token`` (TikTok does not use ``Authorization: Bearer``)."""

    def __init__(self, manager: TokenManager) -> None:
        self.manager = manager

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Access-Token"] = self.manager.access_token()
        return request
