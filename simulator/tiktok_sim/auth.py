"""Tokens, auth codes and refresh tokens issued by the simulated OAuth server."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from hashlib import blake2b

from tiktok_sim.config import SimConfig


class AuthError(Exception):
    """A rejected credential; ``code`` is the TikTok body code to answer with."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class AccessToken:
    advertiser_ids: frozenset[str]
    expires_at: float | None  # epoch seconds; None: never
    revoked: bool = False


@dataclass
class AuthCode:
    advertiser_ids: frozenset[str]
    expires_at: float
    used: bool = False


@dataclass
class RefreshToken:
    advertiser_ids: frozenset[str]
    expires_at: float
    used: bool = False


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    advertiser_ids: list[str]
    access_expires_in: int | None
    refresh_token: str | None
    refresh_expires_in: int | None


class TokenStore:
    """Every credential the simulator knows, thread-safe. Token values are deterministic."""

    def __init__(self, config: SimConfig, advertiser_ids: list[str]) -> None:
        self._config = config
        self._lock = threading.Lock()
        self._counter = 0
        self._all_advertisers = frozenset(advertiser_ids)
        self._access: dict[str, AccessToken] = {}
        self._codes: dict[str, AuthCode] = {}
        self._refresh: dict[str, RefreshToken] = {}
        self.restore_configured_token()

    def restore_configured_token(self) -> None:
        """Make the configured long-lived token valid again (undo expiry/revocation faults)."""
        with self._lock:
            configured = AccessToken(self._all_advertisers, None)
            self._access[self._config.access_token] = configured

    def _new_secret(self, kind: str) -> str:
        self._counter += 1
        digest = blake2b(f"{self._config.seed}:{kind}:{self._counter}".encode(), digest_size=20)
        return digest.hexdigest()

    # ----- checks ---------------------------------------------------------------------------

    def check_app(self, app_id: object, secret: object) -> None:
        if app_id != self._config.app_id or secret != self._config.app_secret:
            raise AuthError(40001, "The app_id or secret is invalid.")

    def check_access_token(self, token: str | None) -> frozenset[str]:
        """Advertisers the token may read; AuthError 40104 (none) or 40105 (bad/expired)."""
        if not token:
            raise AuthError(40104, "Access token is null. Please send the Access-Token header.")
        with self._lock:
            info = self._access.get(token)
        if info is None or info.revoked:
            raise AuthError(40105, "Access token is invalid or has been revoked.")
        if info.expires_at is not None and time.time() >= info.expires_at:
            raise AuthError(40105, "Access token has expired. Refresh it or re-authorize.")
        return info.advertiser_ids

    # ----- issuing --------------------------------------------------------------------------

    def issue_auth_code(self, advertiser_ids: list[str]) -> str:
        with self._lock:
            code = self._new_secret("auth_code")
            expires_at = time.time() + self._config.auth_code_lifetime_s
            self._codes[code] = AuthCode(frozenset(advertiser_ids), expires_at)
        return code

    def redeem_auth_code(self, code: object) -> IssuedTokens:
        if not isinstance(code, str) or not code:
            raise AuthError(40002, "auth_code: Missing data for required field.")
        with self._lock:
            info = self._codes.get(code)
            if info is None or info.used or time.time() >= info.expires_at:
                raise AuthError(
                    40002, "auth_code is invalid, expired or already used; authorize again."
                )
            info.used = True  # auth codes are single use
            return self._issue(info.advertiser_ids)

    def refresh(self, refresh_token: object) -> IssuedTokens:
        if not isinstance(refresh_token, str) or not refresh_token:
            raise AuthError(40002, "refresh_token: Missing data for required field.")
        with self._lock:
            info = self._refresh.get(refresh_token)
            if info is None or info.used or time.time() >= info.expires_at:
                raise AuthError(
                    40105,
                    "refresh_token is invalid, expired or already used "
                    "(refresh tokens rotate on every use).",
                )
            if self._config.rotate_refresh_tokens:
                info.used = True
            keep = None if self._config.rotate_refresh_tokens else refresh_token
            return self._issue(info.advertiser_ids, reuse_refresh=keep)

    def _issue(
        self, advertiser_ids: frozenset[str], reuse_refresh: str | None = None
    ) -> IssuedTokens:
        """Create an access token (and a refresh token when tokens expire). Holds the lock."""
        lifetime = self._config.token_lifetime_s
        access = self._new_secret("access_token")
        now = time.time()
        self._access[access] = AccessToken(
            advertiser_ids, None if lifetime is None else now + lifetime
        )
        refresh: str | None = None
        refresh_lifetime: int | None = None
        if lifetime is not None:
            refresh_lifetime = self._config.refresh_token_lifetime_s
            refresh = reuse_refresh or self._new_secret("refresh_token")
            if reuse_refresh is None:
                self._refresh[refresh] = RefreshToken(advertiser_ids, now + refresh_lifetime)
        return IssuedTokens(access, sorted(advertiser_ids), lifetime, refresh, refresh_lifetime)

    # ----- faults ---------------------------------------------------------------------------

    def expire_access_tokens(self, at: float) -> None:
        """Every access token known now stops working at ``at`` (epoch seconds)."""
        with self._lock:
            for info in self._access.values():
                if info.expires_at is None or info.expires_at > at:
                    info.expires_at = at

    def revoke(self, token: str) -> None:
        with self._lock:
            info = self._access.get(token)
            if info is not None:
                info.revoked = True
            refresh = self._refresh.get(token)
            if refresh is not None:
                refresh.used = True
