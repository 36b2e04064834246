"""Saving a connection: the Meltano .env, the token store, and the platform's data sources."""

from __future__ import annotations

import stat

import psycopg
import pytest

from dra_tiktok_ads import crypto
from dra_tiktok_ads.connect.saving import (
    ConnectionSaver,
    SaveError,
    platform_configured,
    write_env_file,
)
from dra_tiktok_ads.connect.tiktok import Advertiser, Tokens
from tap_tiktok_ads.auth import TokenStore

ADVERTISERS = [
    Advertiser("7000000000000000001", "Shop One", "EUR", "Europe/Berlin"),
    Advertiser("7000000000000000002", "Shop Two", "USD", "America/New_York"),
]


def test_env_file_keeps_other_lines_and_replaces_ours(tmp_path):
    env = tmp_path / ".env"
    env.write_text(
        "# comment\nexport TAP_TIKTOK_ADS_ADVERTISER_IDS='[\"old\"]'\nOTHER=1\n"
        "TAP_TIKTOK_ADS_ADVERTISER_IDS=dup\n\nLAST=x"
    )
    write_env_file(env, {"TAP_TIKTOK_ADS_ADVERTISER_IDS": '["1"]', "NEW_KEY": "v"})
    assert env.read_text().splitlines() == [
        "# comment",
        "TAP_TIKTOK_ADS_ADVERTISER_IDS='[\"1\"]'",
        "OTHER=1",
        "",
        "LAST=x",
        "NEW_KEY='v'",
    ]
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == [".env"]  # no temp file left behind


def test_env_values_cannot_break_out_of_their_quotes(tmp_path):
    with pytest.raises(SaveError):
        write_env_file(tmp_path / ".env", {"K": "a'\nEVIL=1"})


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, False),
        ({"PGHOST": "db"}, False),
        ({"ENCRYPTION_KEY": "k"}, False),
        ({"PGHOST": "db", "ENCRYPTION_KEY": "k"}, True),
        ({"PGDATABASE": "dra", "ENCRYPTION_KEY": "k"}, True),
    ],
)
def test_platform_is_configured_by_database_and_key(environ, expected):
    assert platform_configured(environ) is expected


def test_unwritable_token_store_names_the_setting(settings, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    bad = settings.__class__(**{**settings.__dict__, "token_store_path": blocker / "t.json"})
    with pytest.raises(SaveError, match="TIKTOK_ADS_TOKEN_STORE_PATH"):
        ConnectionSaver(environ={})(bad, Tokens("tok"), ADVERTISERS[:1])


def test_without_env_file_only_the_store_is_written(settings, tmp_path):
    bare = settings.__class__(**{**settings.__dict__, "env_file": None})
    result = ConnectionSaver(environ={})(bare, Tokens("tok"), ADVERTISERS)
    assert result.env_file is None
    assert not (tmp_path / ".env").exists()
    stored = TokenStore(settings.token_store_path).load()
    assert stored is not None
    assert stored.advertiser_ids == [a.advertiser_id for a in ADVERTISERS]


def rows(env):
    with psycopg.connect("", autocommit=True) as conn:
        return conn.execute(
            "SELECT id, name, data_type::text, classification, connection_details"
            " FROM dra_data_sources ORDER BY id"
        ).fetchall()


def test_one_data_source_per_advertiser_and_reconnect_updates(settings, platform_env):
    saver = ConnectionSaver(environ=platform_env)
    first = saver(settings, Tokens("first-token"), ADVERTISERS)
    assert set(first.data_source_ids) == {a.advertiser_id for a in ADVERTISERS}
    second = saver(settings, Tokens("second-token", refresh_token="refresh-2"), ADVERTISERS[:1])
    assert second.data_source_ids == {
        ADVERTISERS[0].advertiser_id: first.data_source_ids[ADVERTISERS[0].advertiser_id]
    }
    found = rows(platform_env)
    assert len(found) == 2
    assert {r[2] for r in found} == {"tiktok_ads"}
    assert {r[3] for r in found} == {"marketing_campaign_data"}
    by_id = {r[0]: r for r in found}
    updated = by_id[second.data_source_ids[ADVERTISERS[0].advertiser_id]]
    assert "second-token" not in str(updated[4])  # encrypted at rest
    details = crypto.decrypt_details(updated[4], platform_env["ENCRYPTION_KEY"])
    assert details["access_token"] == "second-token"
    assert details["refresh_token"] == "refresh-2"
    assert details["advertiser_ids"] == [ADVERTISERS[0].advertiser_id]
    assert details["app_id"] == settings.app_id
    assert details["api_url"] == settings.api_url
    assert settings.app_secret not in str(details)


def test_bad_encryption_key_is_a_save_error(settings, platform_env, monkeypatch):
    monkeypatch.setenv("ENCRYPTION_KEY", "not-hex")
    with pytest.raises(SaveError, match="ENCRYPTION_KEY"):
        ConnectionSaver(environ=platform_env | {"ENCRYPTION_KEY": "x"})(
            settings, Tokens("tok"), ADVERTISERS
        )
