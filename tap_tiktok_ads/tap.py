"""tap-tiktok-ads: the tap class (run-wide services, validation, stream list) and its CLI."""

from __future__ import annotations

import copy
import logging
import math
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from urllib.parse import urlparse

import requests
from singer_sdk import metrics
from singer_sdk.exceptions import ConfigValidationError, FatalAPIError, RetriableAPIError
from singer_sdk.helpers._batch import BatchConfig
from singer_sdk.plugin_base import JSONSchemaValidator

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
from tap_tiktok_ads.memory import limit_malloc_arenas
from tap_tiktok_ads.output import ChunkedOrjsonWriter, flush_all
from tap_tiktok_ads.redaction import install_redaction, redact
from tap_tiktok_ads.services import TikTokTap
from tap_tiktok_ads.settings import (
    CONFIG_SCHEMA,
    PRODUCTION_API_URL,
    SANDBOX_API_URL,
    SECRET_SETTINGS,
    parse_text_settings,
    semantic_errors,
)
from tap_tiktok_ads.shared_budget import SharedBudgetError, SharedRateBudget
from tap_tiktok_ads.streams import STREAM_TYPES, VARIANT_BASES, AdvertiserInfoStream
from tap_tiktok_ads.streams.defined_reports import configured_report_streams
from tap_tiktok_ads.throttle import (
    RateLimiter,
    RequestRateLimiter,
    paced_rate,
    throttled_session,
)

#: Not confirmed by TikTok's docs (see tiktok-api.md); one constant to change if it moves.
REFRESH_TOKEN_PATH = "/oauth2/refresh_token/"  # noqa: S105 - a URL path


class TapTikTokAds(TikTokTap):
    """Singer tap for the TikTok Marketing API v1.3."""

    name = "tap-tiktok-ads"
    _batch_root_cleaned = False
    package_name = "dra-tap-tiktok-ads"
    message_writer_class = ChunkedOrjsonWriter

    # A copy: the SDK appends its built-in settings (stream_maps, batch_config, ...) to the
    # class's schema in place, and CONFIG_SCHEMA must stay the tap's own declaration.
    config_jsonschema = copy.deepcopy(CONFIG_SCHEMA)

    # Settings and validation

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        """Text values parsed, schema errors, and the checks a schema cannot express, each
        naming its setting. Raised as ONE line, so the first line a person (or the sync
        runner) reads is the whole story; the SDK then adds its generic summary after it."""
        errors = parse_text_settings(self._config)
        refused = {error.split()[0] for error in errors}
        errors += self._schema_errors()
        # A refused value is gone from the config: no second line saying it is missing.
        errors += [
            error
            for error in semantic_errors(self.config, lambda: self._stored_tokens)
            if error.split()[0] not in refused
        ]
        errors = [redact(e, self._secret_values()) for e in errors]
        if errors and raise_errors:
            line = f"Bad settings: {'; '.join(errors)}"
            raise ConfigValidationError(line, errors=[line])
        if not errors:
            self._warn_about_token_precedence()
        return errors

    def _schema_errors(self) -> list[str]:
        """The JSON schema's verdict (the SDK's validator, which also fills in defaults),
        worded ``<setting>: <problem>``, without the SDK's generic warning line."""
        schema = self.config_jsonschema
        self.append_builtin_config(schema)
        errors = []
        for error in JSONSchemaValidator(schema).iter_errors(self._config):
            name = ".".join(str(part) for part in error.path)
            if not name and error.validator == "required":
                name = error.message.split("'")[1]  # "'start_date' is a required property"
            errors.append(f"{name or 'config'}: {error.message}")
        return errors

    def _warn_about_token_precedence(self) -> None:
        """Both an access token and a token store with a different one: say which is used."""
        stored = self._stored_tokens
        configured = self.config.get("access_token")
        if stored is not None and configured and stored.access_token != configured:
            self.logger.warning(
                "access_token is ignored: the token store %s holds another token, which wins"
                " (it has the newest, possibly refreshed, tokens). Unset access_token"
                " (TAP_TIKTOK_ADS_ACCESS_TOKEN) or token_store_path to use only one.",
                self.config.get("token_store_path"),
            )

    def _secret_values(self) -> list[str]:
        return [str(self.config[k]) for k in SECRET_SETTINGS if self.config.get(k)]

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
        rate = float(self.config["max_requests_per_second"])
        return max(2, min(16, math.ceil(rate)))

    @property
    def prefetch_depth(self) -> int:
        return self.concurrency

    @cached_property
    def rate_limiter(self) -> RateLimiter:
        """The run's throttle, or the app's budget shared with other runs (``shared_budget``)."""
        return self._app_budget(float(self.config["max_requests_per_second"]), "")

    @cached_property
    def async_rate_limiter(self) -> RateLimiter:
        """report/task/* calls: their own per-app limit, on top of the run's throttle; shared
        with every run of the app too when ``shared_budget`` is set (key suffix ``/async``)."""
        return self._app_budget(float(self.config["async_requests_per_second"]), "/async")

    def _app_budget(self, app_limit: float, suffix: str) -> RateLimiter:
        rate = paced_rate(app_limit)
        uri = self.config.get("shared_budget")
        if not uri:
            return RequestRateLimiter(rate)
        base = str(self.config.get("shared_budget_key") or self.config.get("app_id") or "default")
        key = base + suffix
        budget = SharedRateBudget(str(uri), key, rate)
        self.logger.info(
            "Request budget shared with every run of key %r: %.2f requests/s", key, rate
        )
        return budget

    @cached_property
    def http_session(self) -> requests.Session:
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
            timeout=float(config["request_timeout"]),
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
        # Variants and custom reports exist only when settings ask for them.
        extra = configured_report_streams(self.config, VARIANT_BASES)
        return [stream_type(tap=self) for stream_type in (*STREAM_TYPES, *extra)]


logging.getLogger("urllib3").setLevel(logging.WARNING)


class _RequestMetricsAtDebug(logging.Filter):
    """The SDK logs a METRIC line per HTTP request at info: thousands of lines in a backfill.
    They are demoted to debug (``TAP_TIKTOK_ADS_LOGLEVEL=DEBUG`` shows them); record
    counts, sync durations and the per-window progress lines stay at info."""

    PER_REQUEST = frozenset(
        {metrics.Metric.HTTP_REQUEST_DURATION, metrics.Metric.HTTP_REQUEST_COUNT}
    )

    def filter(self, record: logging.LogRecord) -> bool:
        point = record.args[0] if isinstance(record.args, tuple) and record.args else None
        if isinstance(point, metrics.Point) and point.metric in self.PER_REQUEST:
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.getLogger(metrics.METRICS_LOGGER_NAME).isEnabledFor(logging.DEBUG)
        return True


logging.getLogger(metrics.METRICS_LOGGER_NAME).addFilter(_RequestMetricsAtDebug())

#: Failures with a message a user can act on: logged as one line, no traceback.
EXPECTED_FAILURES = (
    FatalAPIError,
    RetriableAPIError,
    TokenError,
    AdvertiserLookupError,
    SharedBudgetError,
)


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
