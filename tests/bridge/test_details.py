"""ConnectionDetails: the one shape of a data source's encrypted connection details."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from dra_tiktok_ads import crypto
from dra_tiktok_ads.details import ConnectionDetails, InvalidConnectionDetailsError
from tap_tiktok_ads.auth import StoredTokens

KEY = "3c" * 32
ADVERTISER = "7000000000000000001"


def test_round_trip_through_the_platform_envelope_keeps_every_field() -> None:
    details = ConnectionDetails(
        access_token="act.secret",
        advertiser_ids=(ADVERTISER,),
        refresh_token="rft.secret",
        token_expires_at=datetime(2026, 12, 3, 4, 5, tzinfo=timezone.utc),
        app_id="app-1",
        api_url="http://127.0.0.1:9/open_api/v1.3",
        start_date=date(2026, 1, 1),
        extra={"added_by_platform": {"x": 1}},
    )
    envelope = details.encrypt(KEY)
    assert "act.secret" not in str(envelope)
    opened = ConnectionDetails.decrypt(envelope, KEY)
    assert opened == details
    assert opened.extra == {"added_by_platform": {"x": 1}}
    # The platform reads the same JSON object: unset fields are left out, not null.
    assert crypto.decrypt_details(ConnectionDetails("t", (ADVERTISER,)).encrypt(KEY), KEY) == {
        "access_token": "t",
        "advertiser_ids": [ADVERTISER],
    }


@pytest.mark.parametrize(
    ("data", "named"),
    [
        ({"advertiser_ids": [ADVERTISER]}, "access_token is empty"),
        ({"access_token": "t"}, "advertiser_ids is empty"),
        ({"access_token": "t", "advertiser_ids": "7000"}, "advertiser_ids must be a JSON array"),
        ({"access_token": "t", "advertiser_ids": ["acme"]}, "'acme', which is not"),
        ({"access_token": 5, "advertiser_ids": [ADVERTISER]}, "access_token must be a string"),
        (
            {"access_token": "t", "advertiser_ids": [ADVERTISER], "token_expires_at": "soon"},
            "token_expires_at 'soon' is not an ISO-8601 date-time",
        ),
        (
            {"access_token": "t", "advertiser_ids": [ADVERTISER], "start_date": "2026-13-01"},
            "start_date '2026-13-01' is not an ISO-8601 date",
        ),
        (
            {"access_token": "t", "advertiser_ids": [ADVERTISER], "api_url": "ftp://x"},
            "api_url 'ftp://x' is not an http(s) URL",
        ),
    ],
)
def test_invalid_details_name_the_field(data: dict[str, object], named: str) -> None:
    with pytest.raises(InvalidConnectionDetailsError, match="connection_details") as error:
        ConnectionDetails.from_json(data)
    assert named in str(error.value)


def test_invalid_details_are_a_connection_details_error_for_callers() -> None:
    envelope = crypto.encrypt_details({"access_token": "t"}, KEY)
    with pytest.raises(crypto.ConnectionDetailsError, match="advertiser_ids is empty"):
        ConnectionDetails.decrypt(envelope, KEY)


def test_repr_hides_tokens() -> None:
    details = ConnectionDetails("act.hidden", (ADVERTISER,), refresh_token="rft.hidden")
    assert "hidden" not in repr(details)
    assert ADVERTISER in repr(details)


def test_rotated_tokens_replace_only_the_tokens() -> None:
    details = ConnectionDetails("old", (ADVERTISER,), refresh_token="r-old", app_id="app")
    rotated = StoredTokens(
        access_token="new",
        refresh_token="r-new",
        token_expires_at=datetime(2027, 1, 1, tzinfo=timezone.utc),
        advertiser_ids=["9999"],  # the store's advertiser list never moves a data source
    )
    assert not details.same_tokens(rotated)
    updated = details.with_tokens(rotated)
    assert updated.same_tokens(rotated)
    assert (updated.advertiser_ids, updated.app_id) == ((ADVERTISER,), "app")
    assert details.tokens().advertiser_ids == [ADVERTISER]
    assert updated.secrets() == {"new", "r-new"}
