"""The error pages of the connect flow: what went wrong and what the person should do."""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING

from flask import render_template

from dra_tiktok_ads.connect.settings import ConnectSettings
from dra_tiktok_ads.connect.tiktok import Problem

if TYPE_CHECKING:
    from flask.typing import ResponseReturnValue


@dataclass(frozen=True)
class ErrorPage:
    status: HTTPStatus
    title: str
    message: str
    fix: str


NOT_AVAILABLE = ErrorPage(
    HTTPStatus.FORBIDDEN,
    "Not available here",
    "This connect page only answers on this computer (127.0.0.1).",
    "Open it on the computer that runs tap-tiktok-ads-connect.",
)
STATE_MISSING = ErrorPage(
    HTTPStatus.BAD_REQUEST,
    "Connection not started here",
    "This sign-in response has no security check (state), so it was not used.",
    "Start the connection from this app's start page, not from a bookmark or a shared link.",
)
STATE_MISMATCH = ErrorPage(
    HTTPStatus.BAD_REQUEST,
    "Security check failed",
    "The security check (state) does not belong to a sign-in started in this browser.",
    "Start again from the start page in this browser. If you did not just try to connect "
    "TikTok Ads, close this page: the link may have been forged.",
)
STATE_REUSED = ErrorPage(
    HTTPStatus.BAD_REQUEST,
    "Sign-in already used",
    "This TikTok sign-in response was already used once and cannot be used again.",
    "Start again to sign in afresh; avoid reloading the callback page.",
)
STATE_EXPIRED = ErrorPage(
    HTTPStatus.BAD_REQUEST,
    "Sign-in took too long",
    "The sign-in was started too long ago and has expired.",
    "Start again and finish the TikTok step within 10 minutes.",
)
SESSION_EXPIRED = ErrorPage(
    HTTPStatus.BAD_REQUEST,
    "Session expired",
    "This browser has no TikTok sign-in waiting to be saved (it expired or was already saved).",
    "Start again to connect TikTok Ads.",
)
FORM_FORGED = ErrorPage(
    HTTPStatus.FORBIDDEN,
    "Security check failed",
    "The advertiser form did not carry this session's security token.",
    "Reload the advertiser page from this app and submit it again.",
)
NO_CODE = ErrorPage(
    HTTPStatus.BAD_REQUEST,
    "No authorization code",
    "TikTok sent the browser back without an authorization code.",
    "Start again and choose Authorize on TikTok's page.",
)
UNKNOWN_ADVERTISER = ErrorPage(
    HTTPStatus.BAD_REQUEST,
    "Unknown advertiser",
    "The form named an advertiser that this TikTok sign-in did not authorize.",
    "Go back to the advertiser list and choose from it.",
)


def save_failed(reason: str) -> ErrorPage:
    return ErrorPage(
        HTTPStatus.INTERNAL_SERVER_ERROR,
        "Saving failed",
        f"The connection could not be saved: {reason}",
        "Fix the problem named above and save again.",
    )


def problem_page(problem: Problem, settings: ConnectSettings) -> ErrorPage:
    """The page for a TikTok-side problem, with what the user should do."""
    pages = {
        Problem.CONSENT_DENIED: ErrorPage(
            HTTPStatus.FORBIDDEN,
            "Access not granted",
            "TikTok did not grant access: the authorization was declined.",
            "Start again and choose Authorize on TikTok's page. You need access to at least "
            "one ad account in TikTok Ads Manager.",
        ),
        Problem.CODE_INVALID: ErrorPage(
            HTTPStatus.BAD_REQUEST,
            "Authorization code expired or used",
            "TikTok refused the authorization code: it has expired or was already used.",
            "Codes are valid for a short time and only once. Start again to get a fresh one.",
        ),
        Problem.BAD_CREDENTIALS: ErrorPage(
            HTTPStatus.BAD_GATEWAY,
            "App credentials rejected",
            "TikTok rejected this app's credentials.",
            "Check TIKTOK_ADS_APP_ID and TIKTOK_ADS_APP_SECRET against your app in the TikTok "
            "for Business developer portal (My Apps), then restart tap-tiktok-ads-connect.",
        ),
        Problem.REDIRECT_MISMATCH: ErrorPage(
            HTTPStatus.BAD_REQUEST,
            "Redirect URI does not match",
            "The redirect URI does not match the one registered for the TikTok app.",
            f"Register exactly {settings.redirect_uri} as the app's redirect URL in the TikTok "
            "developer portal, or set TIKTOK_ADS_REDIRECT_URI to the registered URL, and open "
            "this app at that address.",
        ),
        Problem.NO_ADVERTISERS: ErrorPage(
            HTTPStatus.CONFLICT,
            "No advertisers authorized",
            "The sign-in worked, but no advertiser account was authorized for this app.",
            "Start again and tick at least one ad account on TikTok's page. If none is listed, "
            "ask an admin of the account in TikTok Business Center to give you access.",
        ),
        Problem.UNREACHABLE: ErrorPage(
            HTTPStatus.BAD_GATEWAY,
            "TikTok unreachable",
            "TikTok's API could not be reached.",
            f"Check the network and TIKTOK_ADS_API_URL ({settings.api_url}), then start again.",
        ),
        Problem.UNEXPECTED: ErrorPage(
            HTTPStatus.BAD_GATEWAY,
            "TikTok error",
            "TikTok answered with an unexpected error.",
            "Start again. If it keeps failing, give TikTok support the request id below.",
        ),
    }
    return pages[problem]


def consent_problem(error: str, description: str) -> Problem:
    """What TikTok's ``error``/``error_description`` on the callback mean for the person."""
    text = f"{error} {description}".lower()
    if "redirect" in text:
        return Problem.REDIRECT_MISMATCH
    if "advertiser" in text:
        return Problem.NO_ADVERTISERS
    return Problem.CONSENT_DENIED


def error_response(page: ErrorPage, detail: str = "") -> ResponseReturnValue:
    body = render_template("error.html", title=page.title, page=page, detail=detail)
    return body, page.status
