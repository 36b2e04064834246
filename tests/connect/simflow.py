"""Helpers to walk the connect flow against the simulator over real HTTP."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import requests

from tiktok_sim import Simulator


def consent(sim: Simulator, authorize_url: str, decision: str = "authorize", ids=None) -> str:
    """Answer the simulator's consent page like a user would; return the callback URL."""
    query = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
    page = requests.get(authorize_url, timeout=10)
    assert page.status_code == 200, page.text
    if ids is None:
        ids = re.findall(r'name="advertiser_ids"[^>]*value="(\d+)"[^>]*checked', page.text)
    response = requests.post(
        f"{sim.base_url}/portal/auth/decision",
        data={
            "app_id": query["app_id"],
            "state": query["state"],
            "redirect_uri": query["redirect_uri"],
            "advertiser_ids": ids,
            "decision": decision,
        },
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code in (302, 303), response.text
    return response.headers["Location"]
