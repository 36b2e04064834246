"""Configuration of one simulator instance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass
class SimConfig:
    """Size, seed and credentials of a simulated TikTok account.

    ``advertisers`` x ``campaigns`` (per advertiser) x ``adgroups`` (per advertiser, spread
    round-robin over its campaigns) x ``days`` (ending at ``end_date``; ``None`` means today in
    each advertiser's own time zone).
    """

    seed: int = 42
    advertisers: int = 2
    campaigns: int = 5
    adgroups: int = 20
    days: int = 90
    end_date: date | None = None
    latency_ms: int = 0
    app_id: str = "sim-app-id"
    app_secret: str = "sim-app-secret"  # noqa: S105 - public simulator default
    access_token: str = "sim-access-token"  # noqa: S105 - public simulator default
    host: str = "127.0.0.1"
    port: int = 0
    # Lifetime of OAuth-issued access tokens. None: long-lived tokens without a refresh token
    # (the common Marketing API case); a number: tokens expire and come with a refresh token.
    token_lifetime_s: int | None = None
    refresh_token_lifetime_s: int = 365 * 24 * 3600
    # Refresh tokens are single use: each refresh returns a new one and kills the old one.
    rotate_refresh_tokens: bool = True
    auth_code_lifetime_s: int = 600
    # The consent page redirects at once (no click) when true, or with ``auto_approve=1``.
    auto_approve: bool = False
    # Advertisers a consent grants (and pre-ticked on the page); None: all of them.
    consent_advertiser_ids: list[str] | None = None
    # Request log entries kept (counters are never truncated).
    max_log_entries: int = 100_000

    def __post_init__(self) -> None:
        for name in ("advertisers", "campaigns", "adgroups", "days"):
            if getattr(self, name) < 1:
                raise ValueError(f"SimConfig.{name} must be at least 1")
        if self.latency_ms < 0:
            raise ValueError("SimConfig.latency_ms must not be negative")
