"""The tap's settings: the one declaration of names, types, defaults and secrecy, and the
checks a JSON schema cannot express.

Defaults live only here: the SDK fills them into the config before the tap reads it.
meltano.yml repeats none, and the Hub definition and the README's settings table are
checked against this schema (tests/e2e/test_declared_once.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, MutableMapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlparse

from singer_sdk import typing as th

from tap_tiktok_ads import batches
from tap_tiktok_ads.auth import StoredTokens, TokenError, parse_utc_datetime
from tap_tiktok_ads.report_matrix import custom_report_problems
from tap_tiktok_ads.shared_budget import psycopg_missing_error
from tap_tiktok_ads.streams import reserved_stream_names
from tap_tiktok_ads.throttle import HEADROOM

PRODUCTION_API_URL = "https://business-api.tiktok.com/open_api/v1.3"
SANDBOX_API_URL = "https://sandbox-ads.tiktok.com/open_api/v1.3"

CONFIG_SCHEMA: dict[str, Any] = th.PropertiesList(
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
            "The app's request limit: TikTok allows about 10 (basic), 20 (advanced) or 30 "
            f"(premium) per second per app. Requests go out {HEADROOM:.0%} below it, shared "
            "by every stream and advertiser of the run, and with shared_budget by every run "
            "of the app."
        ),
    ),
    th.Property(
        "shared_budget",
        th.StringType(),
        secret=True,
        title="Shared budget",
        description=(
            "PostgreSQL URI (postgresql://user@host:port/dbname) of a request budget shared "
            "by every run of the app, in any process or host: set it when runs of one app "
            "overlap. The password may come from PGPASSWORD or ~/.pgpass. Needs the "
            "shared-budget extra (psycopg). Empty: this run throttles alone."
        ),
        examples=["postgresql://tap@db.internal:5432/platform"],
    ),
    th.Property(
        "shared_budget_key",
        th.StringType(),
        title="Shared budget key",
        description=(
            "Name of the shared budget: runs with the same key share one "
            "max_requests_per_second. Default: app_id, else 'default'."
        ),
    ),
    th.Property(
        "include_deleted",
        th.BooleanType(),
        default=True,
        title="Include deleted",
        description=(
            "Include deleted campaigns, ad groups and ads in entities and reports; their "
            "spend is real, and without them totals fall short of Ads Manager."
        ),
    ),
    th.Property(
        "async_reports",
        th.StringType(allowed_values=["off", "auto", "always"]),
        default="off",
        title="Async reports",
        description=(
            "Read report streams through TikTok's asynchronous report tasks (report/task/"
            "create, check, download: one task per 360 days, no 30-day windows, no pages): "
            "'always'; 'auto' when a backfill needs more synchronous requests (one per 30-day "
            "window at least) than the task path; 'off' never. Same records and bookmarks. "
            "Needs include_deleted (tasks filter by campaign ids only). TikTok grants async "
            "reports per app: if it refuses them, auto reads synchronously, always stops."
        ),
    ),
    th.Property(
        "async_requests_per_second",
        th.NumberType(exclusive_minimum=0, maximum=1000),
        default=0.3,
        title="Async requests per second",
        description=(
            "The app's own limit for report/task/* calls (TikTok: 0.3 per second per app); "
            f"they go out {HEADROOM:.0%} below it, within max_requests_per_second, and with "
            "shared_budget across every run of the app."
        ),
    ),
    th.Property(
        "reconcile_totals",
        th.StringType(allowed_values=["off", "warn", "fail"]),
        default="off",
        title="Reconcile totals",
        description=(
            "Ask synchronous reports for TikTok's own totals (enable_total_metrics) and compare "
            "each window's emitted additive metrics with them: 'warn' logs a mismatch with "
            "advertiser, level and window and counts it (METRIC reconcile_mismatch_count); "
            "'fail' stops the sync at the first mismatch, before that window's bookmark moves."
        ),
    ),
    th.Property(
        "request_timeout",
        th.IntegerType(minimum=1, maximum=3600),
        default=60,
        title="Request timeout",
        description="Seconds to wait for one response before retrying.",
    ),
    th.Property(
        "hourly_reports",
        th.BooleanType(),
        default=False,
        title="Hourly reports",
        description=(
            "Add campaign_performance_hourly and ad_group_performance_hourly (stat_time_hour; "
            "one request per day, where a daily stream needs one per 30 days), selected by "
            "default."
        ),
    ),
    th.Property(
        "lifetime_reports",
        th.BooleanType(),
        default=False,
        title="Lifetime reports",
        description=(
            "Add campaign_performance_lifetime and ad_group_performance_lifetime "
            "(query_lifetime: totals since each object started, re-read whole every run), "
            "selected by default."
        ),
    ),
    th.Property(
        "custom_reports",
        th.ArrayType(th.ObjectType(additional_properties=True)),
        title="Custom reports",
        description=(
            "Extra report streams, a JSON array of {name, report_type, data_level, dimensions, "
            "metrics, filters (optional)}, each checked against the bundled report matrix "
            "before any request (docs/reports.md). Key: the dimensions; incremental on "
            "stat_date with a time dimension, lifetime totals without one."
        ),
        examples=[
            [
                {
                    "name": "campaign_by_language",
                    "report_type": "AUDIENCE",
                    "data_level": "AUCTION_CAMPAIGN",
                    "dimensions": ["campaign_id", "stat_time_day", "language"],
                    "metrics": ["spend", "impressions", "clicks"],
                }
            ]
        ],
    ),
).to_dict()

#: Settings whose values never reach a log line, an error message or a file we write.
SECRET_SETTINGS = tuple(
    name for name, prop in CONFIG_SCHEMA["properties"].items() if prop.get("secret")
)


_TRUE = frozenset({"true", "t", "yes", "y", "on", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "off", "0"})
_WHOLE_NUMBER = re.compile(r"[+-]?\d+")
_ID_LIST = re.compile(r"[\d\s,;]+")
#: How Meltano names a setting in the environment (and in .env).
ENV_PREFIX = "TAP_TIKTOK_ADS_"


def _types(prop: Mapping[str, Any]) -> set[str]:
    declared = prop.get("type", [])
    return {declared} if isinstance(declared, str) else set(declared)


class _UnparsableError(ValueError):
    """A text value that is not of its setting's type; the message says what to write."""


def _parse_boolean(name: str, text: str, env: str, _default: Any) -> bool:
    if text.lower() in _TRUE | _FALSE:
        return text.lower() in _TRUE
    raise _UnparsableError(f"{name} {text!r} is not true or false: set {env} to true or false")


def _parse_integer(name: str, text: str, env: str, default: Any) -> int:
    if _WHOLE_NUMBER.fullmatch(text):
        return int(text)
    raise _UnparsableError(f"{name} {text!r} is not a whole number: set {env} to e.g. {default}")


def _parse_number(name: str, text: str, env: str, default: Any) -> int | float:
    try:
        number = Decimal(text)
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite():
        raise _UnparsableError(f"{name} {text!r} is not a number: set {env} to e.g. {default}")
    return int(number) if number == number.to_integral_value() else float(number)


def _parse_array(name: str, text: str, env: str, _default: Any) -> list[Any]:
    example = '["7012345678901234567"]'
    if name == "custom_reports":
        example = '[{"name": "...", "report_type": "...", ...}]'
    if _ID_LIST.fullmatch(text) and re.search(r"[,;\s]", text):
        ids = [part for part in re.split(r"[\s,;]+", text) if part]
        raise _UnparsableError(
            f"{name} {text!r} is a comma-separated list: write it as a JSON array, "
            f"{env}='{json.dumps(ids)}'"
        )
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as error:
        raise _UnparsableError(
            f"{name} {text!r} is not valid JSON ({error.msg} at character {error.pos}): write "
            f"it as a JSON array, {env}='{example}'"
        ) from None
    if not isinstance(parsed, list):
        ids = [str(parsed)] if isinstance(parsed, int | str) else []
        raise _UnparsableError(
            f"{name} {text!r} is not a JSON array: write it as "
            f"{env}='{json.dumps(ids) if ids else example}'"
        )
    # Objects stay objects (custom_reports); the schema check says where they do not belong.
    return [item if isinstance(item, dict) else str(item) for item in parsed]


_TEXT_PARSERS: dict[str, Callable[[str, str, str, Any], Any]] = {
    "boolean": _parse_boolean,
    "integer": _parse_integer,
    "number": _parse_number,
    "array": _parse_array,
}


def parse_text_settings(config: MutableMapping[str, Any]) -> list[str]:
    """Typed settings that arrive as text, parsed in place; one line per value that does not
    parse, naming the setting and the variable to fix.

    Meltano passes environment values as text when meltano.yml declares them ``kind:
    string``, which this project does for every boolean, number and array setting: Meltano's
    own casting reads any unknown word as false (``include_deleted=maybe`` silently dropped
    deleted spend) and crashes with a traceback on ``page_size=abc`` or broken JSON. An
    empty value means unset (the default applies).
    """
    errors: list[str] = []
    for name, prop in CONFIG_SCHEMA["properties"].items():
        value = config.get(name)
        parser = next((_TEXT_PARSERS[t] for t in _types(prop) if t in _TEXT_PARSERS), None)
        if not isinstance(value, str) or parser is None:
            continue
        if not value.strip():
            del config[name]
            continue
        try:
            config[name] = parser(
                name, value.strip(), ENV_PREFIX + name.upper(), prop.get("default", 1)
            )
        except _UnparsableError as error:
            errors.append(str(error))
            del config[name]  # said once, here, not again by the schema check
    return errors


def data_source_id_errors(config: Mapping[str, Any]) -> list[str]:
    """The platform's stamp (meltano.yml maps ``TAP_TIKTOK_ADS_DATA_SOURCE_ID`` to
    ``stream_map_config.data_source_id``): when a stream map uses it, it must be an id."""
    map_config = config.get("stream_map_config")
    if not isinstance(map_config, Mapping) or "data_source_id" not in map_config:
        return []
    value = str(map_config.get("data_source_id") or "").strip()
    if not value or value.startswith("$"):
        return [
            "stream_map_config.data_source_id is empty: set TAP_TIKTOK_ADS_DATA_SOURCE_ID to the"
            " data source's id in dra_data_sources (printed by tap-tiktok-ads-connect)"
        ]
    if not value.isdigit() or int(value) == 0:
        return [
            f"stream_map_config.data_source_id {value!r} is not a data source id: set"
            " TAP_TIKTOK_ADS_DATA_SOURCE_ID to the whole number printed by tap-tiktok-ads-connect"
        ]
    return []


def semantic_errors(
    config: Mapping[str, Any], stored_tokens: Callable[[], StoredTokens | None]
) -> list[str]:
    """What the schema cannot express, one line per problem naming its setting.

    ``stored_tokens`` reads the token store (``token_store_path``); its ``TokenError``
    becomes one of the lines.
    """
    errors: list[str] = data_source_id_errors(config)
    start, end = (_parse_setting_date(config, name, errors) for name in ("start_date", "end_date"))
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
    errors += _shared_budget_errors(config.get("shared_budget"))
    for position, advertiser_id in enumerate(config.get("advertiser_ids") or []):
        if not str(advertiser_id).isdigit():
            errors.append(
                f"advertiser_ids[{position}] {advertiser_id!r} is not a TikTok advertiser id "
                "(digits only)"
            )
    try:
        stored = stored_tokens()
    except TokenError as exc:
        errors.append(str(exc))
        stored = None
    if not config.get("access_token") and stored is None:
        errors.append(
            "access_token is required: set it, or run tap-tiktok-ads-connect and set "
            "token_store_path to the token store it writes"
        )
    errors += batches.config_errors(config.get("batch_config"))
    errors += _async_reports_errors(config)
    errors += custom_report_problems(config.get("custom_reports"), reserved_stream_names())
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


def _async_reports_errors(config: Mapping[str, Any]) -> list[str]:
    mode = config.get("async_reports")
    if mode in ("auto", "always") and config.get("include_deleted") is False:
        return [
            f"async_reports {mode!r} needs include_deleted true (async report tasks filter by"
            " campaign ids only and cannot leave deleted ad groups out): set async_reports to"
            " off or include_deleted to true"
        ]
    return []


def _shared_budget_errors(uri: object) -> list[str]:
    """The URI's scheme (never its value: it may hold a password), and psycopg installed."""
    if not uri:
        return []
    if not str(uri).startswith(("postgresql://", "postgres://")):
        return [
            "shared_budget is not a postgresql:// URI: use e.g. "
            "postgresql://user@host:5432/dbname, or unset it"
        ]
    missing = psycopg_missing_error()
    return [missing] if missing else []


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
