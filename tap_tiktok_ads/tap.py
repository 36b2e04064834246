"""tap-tiktok-ads: settings, validation, shared run-wide services and the stream list."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from functools import cached_property
from typing import Any
from urllib.parse import urlparse

import requests
from singer_sdk import Tap
from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError, FatalAPIError, RetriableAPIError
from singer_sdk.helpers._batch import BatchConfig

from tap_tiktok_ads import batches
from tap_tiktok_ads.advertisers import AdvertiserDirectory, AdvertiserLookupError
from tap_tiktok_ads.auth import (
    AccessTokenAuth,
    RefreshSettings,
    StoredTokens,
    TokenError,
    TokenManager,
    TokenStore,
    parse_utc_datetime,
)
from tap_tiktok_ads.client import MAX_TRIES, TikTokStream
from tap_tiktok_ads.output import ChunkedOrjsonWriter, flush_all
from tap_tiktok_ads.pagination import limit_malloc_arenas
from tap_tiktok_ads.redaction import install_redaction, redact
from tap_tiktok_ads.streams import STREAM_TYPES, AdvertiserInfoStream
from tap_tiktok_ads.throttle import RequestRateLimiter, throttled_session

PRODUCTION_API_URL = "https://business-api.tiktok.com/open_api/v1.3"
SANDBOX_API_URL = "https://sandbox-ads.tiktok.com/open_api/v1.3"
#: Not confirmed by TikTok's docs (see tiktok-api.md); one constant to change if it moves.
REFRESH_TOKEN_PATH = "/oauth2/refresh_token/"  # noqa: S105 - a URL path
SECRET_SETTINGS = ("access_token", "app_secret", "refresh_token")


class TapTikTokAds(Tap):
    """Singer tap for the TikTok Marketing API v1.3."""

    name = "tap-tiktok-ads"
    _batch_root_cleaned = False
    package_name = "dra-tap-tiktok-ads"
    message_writer_class = ChunkedOrjsonWriter

    config_jsonschema = th.PropertiesList(
        th.Property(
            "access_token",
            th.StringType(),
            secret=True,
            title="Access token",
            description=(
                "Marketing API access token, sent as the Access-Token header. Required unless "
                "token_store_path points at a token store (written by tap-tiktok-ads-connect)."
            ),
        ),
        th.Property(
            "advertiser_ids",
            th.ArrayType(th.StringType()),
            title="Advertiser IDs",
            description=(
                "Advertisers to sync. Empty: those in the token store, else every advertiser "
                "the token is authorized for (discovered with app_id and app_secret)."
            ),
            examples=[["7012345678901234567"]],
        ),
        th.Property(
            "start_date",
            th.DateType(),
            required=True,
            title="Start date",
            description="First day to extract (YYYY-MM-DD, advertiser time zone).",
            examples=["2026-01-01"],
        ),
        th.Property(
            "end_date",
            th.DateType(),
            title="End date",
            description=(
                "Last day to extract, inclusive. Default: today in each advertiser's time zone "
                "(today's partial numbers are re-read by the next run)."
            ),
        ),
        th.Property(
            "lookback_days",
            th.IntegerType(minimum=0, maximum=365),
            default=7,
            title="Lookback days",
            description=(
                "Days re-read before the bookmark on every run, because TikTok attributes "
                "conversions to earlier days for a while (7 is sane; some teams use 28)."
            ),
        ),
        th.Property(
            "app_id",
            th.StringType(),
            title="App ID",
            description="TikTok developer app id: for advertiser discovery and token refresh.",
        ),
        th.Property(
            "app_secret",
            th.StringType(),
            secret=True,
            title="App secret",
            description="TikTok developer app secret: for advertiser discovery and token refresh.",
        ),
        th.Property(
            "refresh_token",
            th.StringType(),
            secret=True,
            title="Refresh token",
            description=(
                "Refresh token for apps with expiring tokens. With token_expires_at, the tap "
                "refreshes before expiry and persists the rotated token to token_store_path."
            ),
        ),
        th.Property(
            "token_expires_at",
            th.DateTimeType(),
            title="Token expires at",
            description="Expiry of access_token (ISO-8601). Empty: the token does not expire.",
        ),
        th.Property(
            "token_store_path",
            th.StringType(),
            title="Token store path",
            description=(
                "JSON file holding the current tokens: read first on start, rewritten "
                "atomically (mode 0600) whenever a token is refreshed."
            ),
            examples=[".secrets/tiktok_tokens.json"],
        ),
        th.Property(
            "api_url",
            th.StringType(),
            title="API URL",
            description=(
                "Base URL override, e.g. the local simulator or a proxy. Default: "
                f"{PRODUCTION_API_URL} (or the sandbox URL when sandbox is true)."
            ),
        ),
        th.Property(
            "sandbox",
            th.BooleanType(),
            default=False,
            title="Sandbox",
            description=f"Use TikTok's sandbox ({SANDBOX_API_URL}); it has no discovery.",
        ),
        th.Property(
            "page_size",
            th.IntegerType(minimum=1, maximum=1000),
            default=1000,
            title="Page size",
            description="Rows per page, 1..1000. 1000 needs the fewest requests.",
        ),
        th.Property(
            "max_requests_per_second",
            th.NumberType(exclusive_minimum=0, maximum=1000),
            default=10,
            title="Max requests per second",
            description=(
                "Request budget shared by every stream and advertiser of a run. TikTok allows "
                "about 10 (basic), 20 (advanced) or 30 (premium) per app."
            ),
        ),
        th.Property(
            "include_deleted",
            th.BooleanType(),
            default=True,
            title="Include deleted",
            description=(
                "Include deleted campaigns and ad groups in entities and reports; their "
                "spend is real, and without them totals fall short of Ads Manager."
            ),
        ),
        th.Property(
            "request_timeout",
            th.IntegerType(minimum=1, maximum=3600),
            default=60,
            title="Request timeout",
            description="Seconds to wait for one response before retrying.",
        ),
    ).to_dict()

    # Settings and validation

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        """Schema errors plus the checks a schema cannot express, each naming its setting."""
        errors = super()._validate_config(raise_errors=False)
        errors += self._semantic_errors()
        errors = [redact(e, self._secret_values()) for e in errors]
        if errors and raise_errors:
            raise ConfigValidationError("Config validation failed", errors=errors)
        return errors

    def _secret_values(self) -> list[str]:
        return [str(self.config[k]) for k in SECRET_SETTINGS if self.config.get(k)]

    def _semantic_errors(self) -> list[str]:
        config = self.config
        errors: list[str] = []
        start, end = (
            _parse_setting_date(config, name, errors) for name in ("start_date", "end_date")
        )
        if start and end and end < start:
            errors.append(f"end_date {end} is before start_date {start}: fix one of them")
        expires = config.get("token_expires_at")
        if expires:
            try:
                parse_utc_datetime(str(expires))
            except ValueError:
                errors.append(
                    f"token_expires_at {expires!r} is not an ISO-8601 date-time, "
                    "e.g. 2026-12-01T00:00:00Z"
                )
        api_url = config.get("api_url")
        if api_url:
            parsed = urlparse(str(api_url))
            if parsed.scheme not in ("http", "https") or not parsed.netloc:
                errors.append(
                    f"api_url {api_url!r} is not an http(s) URL: use e.g. {PRODUCTION_API_URL}"
                )
        for position, advertiser_id in enumerate(config.get("advertiser_ids") or []):
            if not str(advertiser_id).isdigit():
                errors.append(
                    f"advertiser_ids[{position}] {advertiser_id!r} is not a TikTok advertiser id "
                    "(digits only)"
                )
        try:
            stored = self._stored_tokens
        except TokenError as exc:
            errors.append(str(exc))
            stored = None
        if not config.get("access_token") and stored is None:
            errors.append(
                "access_token is required: set it, or run tap-tiktok-ads-connect and set "
                "token_store_path to the token store it writes"
            )
        errors += batches.config_errors(config.get("batch_config"))
        if config.get("refresh_token") and not (config.get("app_id") and config.get("app_secret")):
            errors.append("refresh_token needs app_id and app_secret to refresh: set both")
        has_ids = bool(config.get("advertiser_ids") or (stored and stored.advertiser_ids))
        if not has_ids and config.get("sandbox"):
            errors.append("advertiser_ids is required with sandbox: the sandbox has no discovery")
        elif not has_ids and not (config.get("app_id") and config.get("app_secret")):
            errors.append(
                "advertiser_ids is empty: set advertiser_ids, or set app_id and app_secret so "
                "the tap can discover the advertisers the token is authorized for"
            )
        return errors

    @cached_property
    def _stored_tokens(self) -> StoredTokens | None:
        path = self.config.get("token_store_path")
        return TokenStore(path).load() if path else None

    # Run-wide services shared by every stream

    def clean_old_batch_files(self, batch_config: BatchConfig) -> None:
        """Once per run, before the first batch file: delete earlier runs' old files."""
        if not self._batch_root_cleaned:
            self._batch_root_cleaned = True
            deleted = batches.delete_old_files(batch_config)
            if deleted:
                self.logger.info("Deleted %d batch file(s) of earlier runs", deleted)

    @cached_property
    def sync_started_ms(self) -> int:
        """``_sdc_sync_started_at`` of rows written to batch files (see ``batches``)."""
        return int(time.time() * 1000)

    @property
    def api_base_url(self) -> str:
        url = self.config.get("api_url") or (
            SANDBOX_API_URL if self.config.get("sandbox") else PRODUCTION_API_URL
        )
        return str(url).rstrip("/")

    @cached_property
    def concurrency(self) -> int:
        """Requests in flight: enough to fill the rate budget despite latency, no more."""
        rate = float(self.config.get("max_requests_per_second", 10))
        return max(2, min(16, math.ceil(rate)))

    @property
    def prefetch_depth(self) -> int:
        return self.concurrency

    @cached_property
    def rate_limiter(self) -> RequestRateLimiter:
        return RequestRateLimiter(float(self.config.get("max_requests_per_second", 10)))

    @cached_property
    def http_session(self) -> Any:
        return throttled_session(self.rate_limiter, pool_size=self.concurrency + 2)

    @cached_property
    def stopping(self) -> threading.Event:
        """Set when the run fails, so background fetches stop retrying."""
        return threading.Event()

    @cached_property
    def executor(self) -> ThreadPoolExecutor:
        limit_malloc_arenas()
        return ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="tiktok-fetch")

    @cached_property
    def token_manager(self) -> TokenManager:
        config = self.config
        stored = self._stored_tokens
        if stored is not None:
            tokens = stored  # the store holds the newest (possibly rotated) tokens
        else:
            expires = config.get("token_expires_at")
            tokens = StoredTokens(
                access_token=str(config.get("access_token") or ""),
                refresh_token=config.get("refresh_token"),
                token_expires_at=parse_utc_datetime(str(expires)) if expires else None,
                advertiser_ids=[str(i) for i in config.get("advertiser_ids") or []],
            )
        refresh = None
        if config.get("app_id") and config.get("app_secret"):
            refresh = RefreshSettings(
                url=f"{self.api_base_url}{REFRESH_TOKEN_PATH}",
                app_id=str(config["app_id"]),
                app_secret=str(config["app_secret"]),
            )
        store_path = config.get("token_store_path")
        manager = TokenManager(
            tokens,
            refresh=refresh,
            store=TokenStore(store_path) if store_path else None,
            post=self.http_session.post,
            timeout=float(config.get("request_timeout", 60)),
        )
        install_redaction(manager.secrets)
        return manager

    @cached_property
    def access_token_auth(self) -> AccessTokenAuth:
        return AccessTokenAuth(self.token_manager)

    @cached_property
    def advertisers(self) -> AdvertiserDirectory:
        configured = [str(i) for i in self.config.get("advertiser_ids") or []]
        if not configured and self._stored_tokens is not None:
            configured = list(self._stored_tokens.advertiser_ids)
        info_stream = self.streams[AdvertiserInfoStream.name]
        assert isinstance(info_stream, TikTokStream)
        return AdvertiserDirectory(
            info_stream.fetch_data,
            configured_ids=configured,
            app_id=self.config.get("app_id"),
            app_secret=self.config.get("app_secret"),
        )

    def redact(self, text: str) -> str:
        return redact(text, [*self._secret_values(), *self.token_manager.secrets()])

    def discover_streams(self) -> Sequence[TikTokStream]:
        return [stream_type(tap=self) for stream_type in STREAM_TYPES]


def _parse_setting_date(config: Any, name: str, errors: list[str]) -> date | None:
    """A YYYY-MM-DD setting (a date-time is accepted and cut to its day)."""
    value = config.get(name)
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        errors.append(f"{name} {value!r} is not a date: use YYYY-MM-DD, e.g. 2026-01-01")
        return None


logging.getLogger("urllib3").setLevel(logging.WARNING)

#: Failures with a message a user can act on: logged as one line, no traceback.
EXPECTED_FAILURES = (FatalAPIError, RetriableAPIError, TokenError, AdvertiserLookupError)


def main() -> None:
    """Console entry point: the SDK's CLI, with expected failures reported in one line."""
    try:
        try:
            TapTikTokAds.cli()
        finally:
            flush_all()
    except RetriableAPIError as exc:
        logging.getLogger(TapTikTokAds.name).error("Sync failed after %d tries: %s", MAX_TRIES, exc)
        raise SystemExit(1) from None
    except EXPECTED_FAILURES as exc:
        logging.getLogger(TapTikTokAds.name).error("Sync failed: %s", exc)
        raise SystemExit(1) from None
    except requests.RequestException as exc:
        # Its text holds the full URL, query string included: say only what and where.
        host = (
            urlparse(exc.request.url).netloc if exc.request is not None and exc.request.url else "?"
        )
        logging.getLogger(TapTikTokAds.name).error(
            "Sync failed: could not reach the API at %s after retries (%s); check api_url, "
            "the network and request_timeout",
            host,
            type(exc).__name__,
        )
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
