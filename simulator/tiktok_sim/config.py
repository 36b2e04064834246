"""Configuration of one simulator instance."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any


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
    # Ads per ad group cycle from 1 to this (ad group g has 1 + g % ads_per_adgroup).
    ads_per_adgroup: int = 3
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

    # ----- how strict the simulator is (issue 14): on by default where TikTok does it --------
    # Per-app QPS over every token and advertiser of the app, sliding one-second window;
    # 40100 when exceeded. TikTok's tiers: 10 (basic), 20, 30. None: off.
    app_qps_limit: int | None = 10
    # 40067 when days x metrics x objects of a report query exceeds this. None: off.
    query_size_limit: int | None = 2_000_000
    # Synchronous reports cover only the newest N ad groups in scope (TikTok: 20,000 ads) and
    # then set the X-Tt-Ads-Throttle header. None: off.
    sync_report_ad_limit: int | None = 20_000
    # TopView (RESERVATION_TOP_VIEW) and Promote campaigns per advertiser, one ad group each.
    topview_campaigns: int = 1
    promote_campaigns: int = 1
    # Hide TopView and Promote objects from campaign/get, adgroup/get and BASIC reports unless
    # the request asks for them as the docs say.
    hide_special_campaigns: bool = True
    # 40002 for filter forms an endpoint does not document (STATUS_ALL on campaign/get).
    documented_filters_only: bool = True
    # Value shapes of real responses: "0.000"/"0.00"/"-" for zero-conversion costs, 2 to 4
    # decimals, JSON null and raw numbers in some metrics, the wider set of statuses,
    # secondary_status left out at times. False: every metric a 2-decimal string or "-".
    real_value_shapes: bool = True
    # Async reports (issue 17, tasks.py): their own per-app limit in requests per second over
    # report/task/* (TikTok: 0.3), 40100 above; None: off. A task is done this many seconds
    # after it was created.
    async_qps_limit: float | None = 0.3
    async_task_seconds: float = 2.0
    # TikTok grants async reports per app; false: report/task/* answer 40001.
    async_reports_allowed: bool = True

    def __post_init__(self) -> None:
        for name in ("advertisers", "campaigns", "adgroups", "ads_per_adgroup", "days"):
            if getattr(self, name) < 1:
                raise ValueError(f"SimConfig.{name} must be at least 1")
        for name in ("topview_campaigns", "promote_campaigns", "latency_ms"):
            if getattr(self, name) < 0:
                raise ValueError(f"SimConfig.{name} must not be negative")
        self.check_switches()

    def check_switches(self) -> None:
        for name in LIMIT_SWITCHES:
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise ValueError(f"SimConfig.{name} must be a whole number or None (off)")
            if value is not None and value < 1:
                raise ValueError(f"SimConfig.{name} must be at least 1, or None (off)")
        for name in FLAG_SWITCHES:
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"SimConfig.{name} must be true or false")
        for name in RATE_SWITCHES:
            value = getattr(self, name)
            optional = name == "async_qps_limit"
            if (value is None and not optional) or (
                value is not None
                and (isinstance(value, bool) or not isinstance(value, int | float) or value <= 0)
            ):
                raise ValueError(
                    f"SimConfig.{name} must be a positive number"
                    + (" or None (off)" if optional else "")
                )

    def switches(self) -> dict[str, Any]:
        return {
            name: getattr(self, name) for name in (*LIMIT_SWITCHES, *FLAG_SWITCHES, *RATE_SWITCHES)
        }

    def set_switches(self, values: dict[str, Any]) -> None:
        """Change switches at run time (admin ``POST /_sim/switches``); all or nothing."""
        unknown = set(values) - {*LIMIT_SWITCHES, *FLAG_SWITCHES, *RATE_SWITCHES}
        if unknown:
            raise ValueError(f"unknown switch(es): {', '.join(sorted(unknown))}")
        candidate = replace(self, **values)  # validates through __post_init__
        for name in values:
            setattr(self, name, getattr(candidate, name))


# Switchable at run time; dataset sizes (including topview/promote counts) are not.
LIMIT_SWITCHES = ("app_qps_limit", "query_size_limit", "sync_report_ad_limit")
FLAG_SWITCHES = (
    "hide_special_campaigns",
    "documented_filters_only",
    "real_value_shapes",
    "async_reports_allowed",
)
RATE_SWITCHES = ("async_qps_limit", "async_task_seconds")
