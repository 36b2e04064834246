"""A data source's ``connection_details``: one typed shape, encrypted and decrypted here only.

The platform stores the details of each TikTok data source as the AES-256-GCM envelope of
:mod:`.crypto`. Inside, the JSON object has these fields (the platform may add others; they
are kept as they are)::

    access_token      the Marketing API token (secret)
    refresh_token     for apps with expiring tokens (secret, rotates on every refresh)
    token_expires_at  ISO-8601 expiry of access_token; absent: the token does not expire
    advertiser_ids    the advertisers this data source owns (one, as connect registers them)
    app_id            the TikTok developer app (its secret is never stored per data source)
    api_url           base URL override (simulator, proxy)
    start_date        first day to extract for this data source (YYYY-MM-DD)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any
from urllib.parse import urlparse

from dra_tiktok_ads import crypto
from tap_tiktok_ads.auth import StoredTokens, parse_utc_datetime

_KNOWN_FIELDS = (
    "access_token",
    "refresh_token",
    "token_expires_at",
    "advertiser_ids",
    "app_id",
    "api_url",
    "start_date",
)


class InvalidConnectionDetailsError(crypto.ConnectionDetailsError):
    """The decrypted details do not have the shape above; the message names the field."""


@dataclass(frozen=True)
class ConnectionDetails:
    """What one data source needs to reach TikTok."""

    access_token: str
    advertiser_ids: tuple[str, ...]
    refresh_token: str | None = None
    token_expires_at: datetime | None = None
    app_id: str | None = None
    api_url: str | None = None
    start_date: date | None = None
    #: Fields the platform added that this code does not know, kept on re-encryption.
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if not self.access_token:
            raise InvalidConnectionDetailsError(
                "connection_details.access_token is empty: reconnect the TikTok account."
            )
        if not self.advertiser_ids:
            raise InvalidConnectionDetailsError(
                "connection_details.advertiser_ids is empty: reconnect the TikTok account and"
                " choose its advertiser."
            )
        for advertiser_id in self.advertiser_ids:
            if not advertiser_id.isdigit():
                raise InvalidConnectionDetailsError(
                    f"connection_details.advertiser_ids holds {advertiser_id!r}, which is not a"
                    " TikTok advertiser id (digits only)."
                )
        if self.api_url:
            parsed = urlparse(self.api_url)
            if parsed.scheme not in ("http", "https") or not parsed.netloc:
                raise InvalidConnectionDetailsError(
                    f"connection_details.api_url {self.api_url!r} is not an http(s) URL."
                )

    def __repr__(self) -> str:  # secrets stay out of logs and tracebacks
        return (
            f"ConnectionDetails(advertiser_ids={self.advertiser_ids!r}, app_id={self.app_id!r},"
            f" api_url={self.api_url!r}, token_expires_at={self.token_expires_at!r},"
            " access_token=<redacted>"
            f"{', refresh_token=<redacted>' if self.refresh_token else ''})"
        )

    # The JSON object inside the envelope -----------------------------------------------

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ConnectionDetails:
        """Validate the decrypted JSON object; errors name the field and what to do."""
        if not isinstance(data, Mapping):
            raise InvalidConnectionDetailsError("connection_details must be a JSON object.")
        ids = data.get("advertiser_ids") or []
        if isinstance(ids, str) or not isinstance(ids, list):
            raise InvalidConnectionDetailsError(
                "connection_details.advertiser_ids must be a JSON array of advertiser ids."
            )
        return cls(
            access_token=_text(data, "access_token") or "",
            advertiser_ids=tuple(str(i) for i in ids),
            refresh_token=_text(data, "refresh_token"),
            token_expires_at=_parsed(data, "token_expires_at", parse_utc_datetime),
            app_id=_text(data, "app_id"),
            api_url=_text(data, "api_url"),
            start_date=_parsed(data, "start_date", lambda v: date.fromisoformat(v[:10])),
            extra={k: v for k, v in data.items() if k not in _KNOWN_FIELDS},
        )

    def to_json(self) -> dict[str, Any]:
        """The JSON object to encrypt; fields without a value are left out."""
        known = {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "token_expires_at": (
                self.token_expires_at.isoformat() if self.token_expires_at else None
            ),
            "advertiser_ids": list(self.advertiser_ids),
            "app_id": self.app_id,
            "api_url": self.api_url,
            "start_date": self.start_date.isoformat() if self.start_date else None,
        }
        return {**self.extra, **{k: v for k, v in known.items() if v is not None}}

    # The platform's encrypted envelope: the one place details are sealed and opened -----

    def encrypt(self, key_hex: str) -> dict[str, Any]:
        return crypto.encrypt_details(self.to_json(), key_hex)

    @classmethod
    def decrypt(cls, envelope: Mapping[str, Any] | str | bytes, key_hex: str) -> ConnectionDetails:
        return cls.from_json(crypto.decrypt_details(envelope, key_hex))

    # Tokens --------------------------------------------------------------------------------

    def tokens(self) -> StoredTokens:
        """The tap's token store content for this data source."""
        return StoredTokens(
            access_token=self.access_token,
            refresh_token=self.refresh_token,
            token_expires_at=self.token_expires_at,
            advertiser_ids=list(self.advertiser_ids),
        )

    def same_tokens(self, tokens: StoredTokens) -> bool:
        return (self.access_token, self.refresh_token, self.token_expires_at) == (
            tokens.access_token,
            tokens.refresh_token,
            tokens.token_expires_at,
        )

    def with_tokens(self, tokens: StoredTokens) -> ConnectionDetails:
        """These details with tokens the tap rotated."""
        return replace(
            self,
            access_token=tokens.access_token,
            refresh_token=tokens.refresh_token,
            token_expires_at=tokens.token_expires_at,
        )

    def secrets(self) -> set[str]:
        return {value for value in (self.access_token, self.refresh_token) if value}


def _text(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidConnectionDetailsError(f"connection_details.{name} must be a string.")
    return value


def _parsed(data: Mapping[str, Any], name: str, parse: Any) -> Any:
    value = _text(data, name)
    if value is None:
        return None
    try:
        return parse(value)
    except ValueError:
        raise InvalidConnectionDetailsError(
            f"connection_details.{name} {value!r} is not an ISO-8601 date"
            f"{'-time' if name == 'token_expires_at' else ''}."
        ) from None
