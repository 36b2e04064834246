"""TikTok's response envelope and what its codes mean.

Every response body is ``{code, message, request_id, data}``, and errors usually come as
HTTP 200 with a non-zero ``code``. Here: decoding the body once, and classifying a failure
as retriable (the SDK backs off and tries again) or fatal (one line saying what to do).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import urlparse

import orjson
import requests
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError

#: Codes TikTok uses for transient conditions: rate limits, tasks not ready, its own faults.
RETRIABLE_CODES = {
    40100: "app rate limit reached",
    40133: "advertiser QPS limit reached",
    40200: "task error",
    40201: "task not ready",
    40202: "request conflict",
    40700: "internal validation error",
    50000: "TikTok system error",
    50002: "TikTok-side error",
}

#: Codes that no retry will fix, with what the user should do about them.
FATAL_CODES = {
    40001: "no permission: the token cannot access this advertiser or endpoint; check "
    "advertiser_ids and the app's scopes, or reconnect the account",
    40002: "parameter error: the API rejected a field or value (see its message); this "
    "usually means the API changed, please report it with the request_id",
    40007: "object does not exist: check advertiser_ids",
    40104: "no access token was sent: set access_token (or token_store_path)",
    40105: "the access token is invalid or expired: reconnect the account "
    "(tap-tiktok-ads-connect) or set a new access_token",
}

TOKEN_REJECTED = 40105
NO_PERMISSION = 40001
#: "Your query is too large": the report query (days x metrics x objects) must be made smaller.
QUERY_TOO_LARGE = 40067


class QueryTooLargeError(FatalAPIError):
    """Code 40067 on a report: fatal as it is, but a smaller query (fewer days) may pass."""


class NoPermissionError(FatalAPIError):
    """Code 40001: fatal, but a caller with another way (async reports: the synchronous
    endpoint) may take it."""


_ENVELOPE_ATTR = "_tiktok_envelope"
_API_VERSION = re.compile(r"(.*?/v\d+(?:\.\d+)*)(?:/|$)")


def envelope_of(response: requests.Response) -> dict[str, Any]:
    """The decoded body, decoded once by :func:`check_response`."""
    envelope: dict[str, Any] = getattr(response, _ENVELOPE_ATTR)
    return envelope


def envelope_data(envelope: dict[str, Any]) -> dict[str, Any]:
    data = envelope.get("data")
    return data if isinstance(data, dict) else {}


def _decoded(response: requests.Response) -> dict[str, Any] | None:
    try:
        body = orjson.loads(response.content)  # twice as fast as response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _is_envelope(body: dict[str, Any] | None) -> bool:
    return body is not None and "code" in body and ("request_id" in body or "message" in body)


def not_tiktok(response: requests.Response) -> str:
    """``not a TikTok API at <base URL>; check api_url`` (no query string: it may hold the
    app secret)."""
    parsed = urlparse(response.url or "")
    # The base is what precedes the endpoint: up to the API version (".../open_api/v1.3").
    version = _API_VERSION.match(parsed.path)
    base = version.group(1) if version else ""
    return f"not a TikTok API at {parsed.scheme}://{parsed.netloc}{base}; check api_url"


def check_response(
    response: requests.Response, path: str, renew_rejected_token: Callable[[str], bool]
) -> None:
    """Raise ``RetriableAPIError`` or ``FatalAPIError`` unless ``response`` succeeded.

    Decides by HTTP status first, then by the body code. ``path`` names the endpoint in
    messages (never the query string: it can hold the app secret). ``renew_rejected_token``
    is asked, after a 40105, whether the token it was sent with has been renewed.
    """
    status = response.status_code
    if status == HTTPStatus.TOO_MANY_REQUESTS or status >= HTTPStatus.INTERNAL_SERVER_ERROR:
        msg = f"HTTP {status} from {path}"
        raise RetriableAPIError(msg, response)
    if status >= HTTPStatus.BAD_REQUEST:
        if _is_envelope(_decoded(response)):
            msg = f"HTTP {status} {response.reason} from {path}: check the token and advertiser_ids"
        else:  # TikTok answers with its envelope even on errors: another server answered
            msg = f"{not_tiktok(response)}: HTTP {status} {response.reason} from {path}"
        raise FatalAPIError(msg)
    envelope = _decoded(response)
    if envelope is None:
        msg = f"malformed response body from {path} (HTTP {status})"
        raise RetriableAPIError(msg, response)
    if not _is_envelope(envelope):
        raise FatalAPIError(
            f"{not_tiktok(response)}: the answer from {path} has no TikTok envelope"
            " (code, message, request_id)"
        )
    setattr(response, _ENVELOPE_ATTR, envelope)
    code = envelope.get("code")
    if code == 0:
        return
    detail = (
        f"TikTok code {code} from {path}: {envelope.get('message')!s} "
        f"(request_id {envelope.get('request_id')})"
    )
    if code == TOKEN_REJECTED and renew_rejected_token(
        response.request.headers.get("Access-Token", "")
    ):
        raise RetriableAPIError(f"{detail}; the token was refreshed", response)
    if code == QUERY_TOO_LARGE:
        raise QueryTooLargeError(f"{detail}; the query is too large")
    if isinstance(code, int) and code in RETRIABLE_CODES:
        raise RetriableAPIError(f"{detail}; {RETRIABLE_CODES[code]}", response)
    hint = (
        FATAL_CODES.get(code, "unexpected error code; not retried")
        if isinstance(code, int)
        else "response without an error code; not retried"
    )
    if code == NO_PERMISSION:
        raise NoPermissionError(f"{detail}. {hint}")
    raise FatalAPIError(f"{detail}. {hint}")
