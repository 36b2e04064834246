"""api_url pointing at a server that is not TikTok's says so (issue 15, item 8)."""

from __future__ import annotations

import pytest
import requests
import requests_mock
from singer_sdk.exceptions import FatalAPIError

from tap_tiktok_ads.envelope import check_response

BASE = "https://intranet.example.test/open_api/v1.3"
PATH = "/advertiser/info/"


def _response(**kwargs: object) -> requests.Response:
    with requests_mock.Mocker() as mock:
        mock.get(f"{BASE}{PATH}", **kwargs)
        return requests.get(f"{BASE}{PATH}?secret=app-secret-123", timeout=5)


@pytest.mark.parametrize(
    "answer",
    [
        {"status_code": 404, "text": "<html><body>Not Found</body></html>", "reason": "Not Found"},
        {"status_code": 200, "json": {"status": "ok", "items": []}},
    ],
)
def test_another_server_is_not_a_tiktok_api(answer: dict[str, object]) -> None:
    response = _response(**answer)
    with pytest.raises(FatalAPIError) as raised:
        check_response(response, PATH, lambda _token: False)
    message = str(raised.value)
    assert message.startswith(f"not a TikTok API at {BASE}; check api_url"), message
    assert "app-secret-123" not in message


def test_tiktoks_own_http_error_keeps_its_hint() -> None:
    envelope = {"code": 40105, "message": "Access token is incorrect", "request_id": "r1"}
    response = _response(status_code=401, json=envelope, reason="Unauthorized")
    with pytest.raises(FatalAPIError, match="HTTP 401 Unauthorized from /advertiser/info/: check"):
        check_response(response, PATH, lambda _token: False)
