"""Settings of the connect flow, read from the environment the way the CLI and a backend need.

Every problem is reported as one line naming the variable, so a person knows what to fix.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_AUTH_URL = "https://business-api.tiktok.com/portal/auth"
DEFAULT_API_URL = "https://business-api.tiktok.com/open_api/v1.3"
# One token store per advertiser: <dir>/<advertiser_id>.json, so tenants never share one.
DEFAULT_TOKEN_STORE_DIR = ".secrets/tiktok"  # noqa: S105 - a path
# Read by earlier versions (one store for every advertiser); now only warned about.
OBSOLETE_TOKEN_STORE_VARIABLE = "TIKTOK_ADS_TOKEN_STORE_PATH"  # noqa: S105 - a name
DEFAULT_ENV_FILE = ".env"
# TikTok grants the permissions ticked on the app in the developer portal; the parameter is
# sent because the platform's flow names it, and it documents the read-only access we need.
DEFAULT_SCOPE = "advertiser.read,campaign.read,adgroup.read,report.read"
CALLBACK_PATH = "/oauth/tiktok/callback"


class SettingsError(ValueError):
    """A setting is missing or invalid; the message names the variable."""


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback IP literals (127.0.0.0/8, ::1)."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _http_url(name: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"{name} must be an http(s) URL, got {value!r}")
    if parts.username or parts.password:
        raise SettingsError(f"{name} must not contain credentials")
    return value.rstrip("/")


@dataclass(frozen=True)
class ConnectSettings:
    """Everything the connect flow needs. ``app_secret`` is never rendered or logged."""

    app_id: str
    app_secret: str = field(repr=False)
    redirect_uri: str
    auth_url: str = DEFAULT_AUTH_URL
    api_url: str = DEFAULT_API_URL
    scope: str = DEFAULT_SCOPE
    token_store_dir: Path = Path(DEFAULT_TOKEN_STORE_DIR)
    env_file: Path | None = Path(DEFAULT_ENV_FILE)
    # Accept requests from other machines (a platform backend behind a proxy). Off for the CLI.
    allow_remote: bool = False
    state_ttl_seconds: int = 600
    session_ttl_seconds: int = 1800
    request_timeout: float = 30.0

    def __post_init__(self) -> None:
        for name, value in (
            ("TIKTOK_ADS_APP_ID", self.app_id),
            ("TIKTOK_ADS_APP_SECRET", self.app_secret),
            ("TIKTOK_ADS_REDIRECT_URI", self.redirect_uri),
        ):
            if not value or not value.strip():
                raise SettingsError(f"{name} is not set")
        _http_url("TIKTOK_ADS_REDIRECT_URI", self.redirect_uri)
        _http_url("TIKTOK_ADS_AUTH_URL", self.auth_url)
        _http_url("TIKTOK_ADS_API_URL", self.api_url)
        parts = urlsplit(self.redirect_uri)
        # A backend may mount the app under a prefix; the CLI serves it at the root.
        if not parts.path.endswith(CALLBACK_PATH):
            raise SettingsError(
                f"TIKTOK_ADS_REDIRECT_URI must end with {CALLBACK_PATH}, got {self.redirect_uri!r}"
            )
        if parts.query or parts.fragment:
            raise SettingsError("TIKTOK_ADS_REDIRECT_URI must not have a query or fragment")
        try:
            _ = parts.port
        except ValueError as exc:
            raise SettingsError(f"TIKTOK_ADS_REDIRECT_URI has an invalid port: {exc}") from None
        host = parts.hostname or ""
        # An IPv6 literal cannot be listed in Flask's TRUSTED_HOSTS, so every page would be
        # refused: only the names the Host check can trust.
        if not self.allow_remote and (":" in host or not is_loopback_host(host)):
            raise SettingsError(
                "TIKTOK_ADS_REDIRECT_URI must point at 127.0.0.1 or localhost "
                "(use --allow-remote to serve other hosts)"
            )

    def token_store_path(self, advertiser_id: str) -> Path:
        """Where one advertiser's tokens are kept (``advertiser_ids`` = that one only)."""
        if not advertiser_id.isdigit():  # it becomes a file name
            raise SettingsError(f"advertiser id {advertiser_id!r} is not a TikTok advertiser id")
        return self.token_store_dir / f"{advertiser_id}.json"

    @property
    def origin(self) -> str:
        """Scheme, host and port of the redirect URI: where this app is reached."""
        parts = urlsplit(self.redirect_uri)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def port(self) -> int:
        parts = urlsplit(self.redirect_uri)
        return parts.port or (443 if parts.scheme == "https" else 80)

    @property
    def secure_cookies(self) -> bool:
        return urlsplit(self.redirect_uri).scheme == "https"

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, /, **overrides: object
    ) -> ConnectSettings:
        """Read ``TIKTOK_ADS_*`` variables; keyword overrides (CLI flags) win."""
        env = os.environ if environ is None else environ

        def get(name: str, default: str = "") -> str:
            return env.get(name, "").strip() or default

        values: dict[str, object] = {
            "app_id": get("TIKTOK_ADS_APP_ID"),
            "app_secret": get("TIKTOK_ADS_APP_SECRET"),
            "redirect_uri": get("TIKTOK_ADS_REDIRECT_URI"),
            "auth_url": get("TIKTOK_ADS_AUTH_URL", DEFAULT_AUTH_URL),
            "api_url": get("TIKTOK_ADS_API_URL", DEFAULT_API_URL),
            "scope": get("TIKTOK_ADS_SCOPE", DEFAULT_SCOPE),
            "token_store_dir": Path(get("TIKTOK_ADS_TOKEN_STORE_DIR", DEFAULT_TOKEN_STORE_DIR)),
            "env_file": Path(get("TIKTOK_ADS_ENV_FILE", DEFAULT_ENV_FILE)),
        }
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**values)  # type: ignore[arg-type]
