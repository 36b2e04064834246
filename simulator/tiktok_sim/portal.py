"""The OAuth consent page (TikTok's /portal/auth) and its decision endpoint."""

from __future__ import annotations

import html
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tiktok_sim.auth import TokenStore
from tiktok_sim.config import SimConfig
from tiktok_sim.dataset import Dataset

DECISION_PATH = "/portal/auth/decision"


def redirect_with(redirect_uri: str, params: dict[str, str]) -> str:
    """redirect_uri with params appended to any query it already has."""
    parts = urlsplit(redirect_uri)
    query = [*parse_qsl(parts.query, keep_blank_values=True), *params.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))


class Portal:
    def __init__(self, config: SimConfig, dataset: Dataset, tokens: TokenStore) -> None:
        self.config = config
        self.dataset = dataset
        self.tokens = tokens

    def default_grant(self) -> list[str]:
        if self.config.consent_advertiser_ids is None:
            return self.dataset.advertiser_ids
        return list(self.config.consent_advertiser_ids)

    def check_request(self, app_id: str | None, redirect_uri: str | None) -> str | None:
        """An error to show instead of the page, or None."""
        if app_id != self.config.app_id:
            return "Invalid app_id: this app is not registered."
        if not redirect_uri or urlsplit(redirect_uri).scheme not in ("http", "https"):
            return "Invalid redirect_uri: an absolute http(s) URL is required."
        return None

    def approve(self, redirect_uri: str, state: str, advertiser_ids: list[str]) -> str:
        """The redirect location after consent: a fresh single-use auth code plus state."""
        if not advertiser_ids:
            return redirect_with(
                redirect_uri,
                {
                    "error": "invalid_request",
                    "error_description": "No advertiser selected.",
                    "state": state,
                },
            )
        code = self.tokens.issue_auth_code(advertiser_ids)
        # TikTok sends the code as auth_code (older docs: code); both are sent.
        return redirect_with(redirect_uri, {"auth_code": code, "code": code, "state": state})

    @staticmethod
    def deny(redirect_uri: str, state: str) -> str:
        return redirect_with(
            redirect_uri,
            {
                "error": "access_denied",
                "error_description": "The user denied the authorization request.",
                "state": state,
            },
        )

    def page(self, app_id: str, state: str, redirect_uri: str) -> str:
        granted = set(self.default_grant())
        boxes = "\n".join(
            f'<label><input type="checkbox" name="advertiser_ids" '
            f'id="advertiser-{html.escape(a.advertiser_id)}" value="{html.escape(a.advertiser_id)}"'
            f"{' checked' if a.advertiser_id in granted else ''}> "
            f"{html.escape(a.name)} ({html.escape(a.advertiser_id)})</label><br>"
            for a in self.dataset.advertisers
        )
        hidden = "".join(
            f'<input type="hidden" name="{name}" value="{html.escape(value)}">'
            for name, value in (
                ("app_id", app_id),
                ("state", state),
                ("redirect_uri", redirect_uri),
            )
        )
        return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>TikTok For Business - Authorize</title></head>
<body>
<h1>Authorize app {html.escape(app_id)}</h1>
<p>The app requests read access to these ad accounts (TikTok API simulator):</p>
<form method="post" action="{DECISION_PATH}" id="consent">
{hidden}
{boxes}
<button type="submit" name="decision" value="authorize" id="authorize">Authorize</button>
<button type="submit" name="decision" value="deny" id="deny">Deny</button>
</form>
</body></html>
"""

    @staticmethod
    def error_page(message: str) -> str:
        return (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Error</title>'
            f'</head><body><h1>Authorization error</h1><p id="error">{html.escape(message)}</p>'
            "</body></html>\n"
        )
