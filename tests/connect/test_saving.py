"""Saving a connection: per-advertiser token stores, the Meltano .env, the platform's data
sources; all or nothing."""

from __future__ import annotations

import json
import os
import stat
import time
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest

from dra_tiktok_ads import crypto, registration
from dra_tiktok_ads.connect.envfile import EnvValueError, updated_env_text
from dra_tiktok_ads.connect.saving import (
    ConnectionSaver,
    SaveError,
    platform_configured,
)
from dra_tiktok_ads.connect.staging import SUFFIX, StagedFile
from dra_tiktok_ads.connect.tiktok import Advertiser, Tokens
from tap_tiktok_ads.auth import TokenStore
from tests.connect.helpers import (
    ACCESS_TOKEN,
    ADVERTISER_INFO,
    EXCHANGE,
    FIRST_ID,
    SECOND_ID,
    Browser,
    assert_no_secrets,
    envelope,
    save_advertisers,
)

ADVERTISERS = [
    Advertiser("7000000000000000001", "Shop One", "EUR", "Europe/Berlin"),
    Advertiser("7000000000000000002", "Shop Two", "USD", "America/New_York"),
]
ONE, TWO = (a.advertiser_id for a in ADVERTISERS)


def test_env_text_keeps_other_lines_and_replaces_ours():
    current = (
        "# comment\nexport TAP_TIKTOK_ADS_APP_ID='old'\nOTHER=1\n"
        'TAP_TIKTOK_ADS_APP_ID=dup\n\nTAP_TIKTOK_ADS_ADVERTISER_IDS=\'["1","2"]\'\nLAST=x'
    )
    updated = updated_env_text(
        current,
        {"TAP_TIKTOK_ADS_APP_ID": "app-1", "NEW_KEY": "v"},
        remove={"TAP_TIKTOK_ADS_ADVERTISER_IDS"},
    )
    assert updated.splitlines() == [
        "# comment",
        "TAP_TIKTOK_ADS_APP_ID='app-1'",
        "OTHER=1",
        "",
        "LAST=x",
        "NEW_KEY='v'",
    ]


def test_env_file_is_private_and_no_temp_file_is_left(settings, tmp_path):
    ConnectionSaver(environ={})(settings, Tokens("tok"), ADVERTISERS)
    assert stat.S_IMODE(settings.env_file.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == [".env", "secrets"]
    assert not list(settings.token_store_dir.glob(f"*{SUFFIX}"))


def test_env_values_cannot_break_out_of_their_quotes(settings):
    with pytest.raises(EnvValueError):
        updated_env_text("", {"K": "a'\nEVIL=1"})
    with pytest.raises(SaveError, match=str(settings.env_file)):
        ConnectionSaver(environ={})(
            replace(settings, app_id="a'\nEVIL=1"), Tokens("tok"), ADVERTISERS
        )
    assert not settings.env_file.exists()
    assert not list(settings.token_store_dir.iterdir())  # nothing half-written


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


def test_unwritable_token_store_folder_names_the_setting(settings, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    bad = replace(settings, token_store_dir=blocker / "tiktok")
    with pytest.raises(SaveError, match="TIKTOK_ADS_TOKEN_STORE_DIR"):
        ConnectionSaver(environ={})(bad, Tokens("tok"), ADVERTISERS[:1])
    assert not settings.env_file.exists()


def test_without_env_file_only_the_stores_are_written(settings, tmp_path):
    bare = replace(settings, env_file=None)
    result = ConnectionSaver(environ={})(bare, Tokens("tok"), ADVERTISERS)
    assert result.env_file is None
    assert not (tmp_path / ".env").exists()
    for advertiser in ADVERTISERS:
        stored = TokenStore(settings.token_store_path(advertiser.advertiser_id)).load()
        assert stored is not None
        assert stored.advertiser_ids == [advertiser.advertiser_id]


def test_an_advertiser_id_cannot_escape_the_store_folder(settings):
    evil = Advertiser("../../etc/evil", "Evil")
    with pytest.raises(SaveError, match="not a TikTok advertiser id"):
        ConnectionSaver(environ={})(settings, Tokens("tok"), [evil])


def test_connecting_one_account_after_another_keeps_both_stores(settings):
    saver = ConnectionSaver(environ={})
    saver(settings, Tokens("token-of-one"), ADVERTISERS[:1])
    saver(settings, Tokens("token-of-two", refresh_token="refresh-two"), ADVERTISERS[1:])
    one = TokenStore(settings.token_store_path(ONE)).load()
    two = TokenStore(settings.token_store_path(TWO)).load()
    assert one is not None
    assert two is not None
    assert (one.access_token, one.advertiser_ids) == ("token-of-one", [ONE])
    assert (two.access_token, two.advertiser_ids) == ("token-of-two", [TWO])
    env = settings.env_file.read_text()
    assert "ADVERTISER_IDS" not in env
    assert "TOKEN_STORE_PATH" not in env


def test_staged_files_left_by_a_killed_save_are_removed(settings):
    settings.token_store_dir.mkdir(parents=True)
    old_store = settings.token_store_dir / f".{ONE}.json.abc{SUFFIX}"
    old_env = settings.env_file.parent / f".env.abc{SUFFIX}"
    recent = settings.token_store_dir / f".{TWO}.json.def{SUFFIX}"  # another save, running
    an_hour_ago = time.time() - 3600
    for leftover in (old_store, old_env, recent):
        leftover.write_text('{"access_token": "leaked"}')
    for leftover in (old_store, old_env):
        os.utime(leftover, (an_hour_ago, an_hour_ago))
    ConnectionSaver(environ={})(settings, Tokens("tok"), ADVERTISERS[:1])
    assert not old_store.exists()
    assert not old_env.exists()
    assert recent.exists()


def rows(env):
    with psycopg.connect("", autocommit=True) as conn:
        return conn.execute(
            "SELECT id, name, data_type::text, classification, connection_details, sync_config"
            " FROM dra_data_sources ORDER BY id"
        ).fetchall()


def test_one_data_source_per_advertiser_and_reconnect_updates(settings, platform_env):
    saver = ConnectionSaver(environ=platform_env)
    first = saver(settings, Tokens("first-token"), ADVERTISERS)
    assert set(first.data_source_ids) == {a.advertiser_id for a in ADVERTISERS}
    second = saver(settings, Tokens("second-token", refresh_token="refresh-2"), ADVERTISERS[:1])
    assert second.data_source_ids == {ONE: first.data_source_ids[ONE]}
    found = rows(platform_env)
    assert len(found) == 2
    assert {r[2] for r in found} == {"tiktok_ads"}
    assert {r[3] for r in found} == {"marketing_campaign_data"}
    by_id = {r[0]: r for r in found}
    updated = by_id[second.data_source_ids[ONE]]
    assert "second-token" not in str(updated[4])  # encrypted at rest
    details = crypto.decrypt_details(updated[4], platform_env["ENCRYPTION_KEY"])
    assert details["access_token"] == "second-token"
    assert details["refresh_token"] == "refresh-2"
    assert details["advertiser_ids"] == [ONE]
    assert details["app_id"] == settings.app_id
    assert details["api_url"] == settings.api_url
    assert settings.app_secret not in str(details)


def test_bad_encryption_key_is_a_save_error(settings, platform_env, monkeypatch):
    monkeypatch.setenv("ENCRYPTION_KEY", "not-hex")
    with pytest.raises(SaveError, match="ENCRYPTION_KEY"):
        ConnectionSaver(environ=platform_env | {"ENCRYPTION_KEY": "x"})(
            settings, Tokens("tok"), ADVERTISERS
        )
    assert not settings.token_store_dir.exists() or not list(settings.token_store_dir.iterdir())
    assert not settings.env_file.exists()


def snapshot(settings) -> dict[str, str]:
    """Every file a save may touch, with its content (temp files included)."""
    files = [settings.env_file, *settings.token_store_dir.iterdir()]
    return {str(p): p.read_text() for p in files if p.exists()}


def test_a_database_failure_in_the_middle_leaves_every_file_and_row_as_it_was(
    settings, platform_env
):
    saver = ConnectionSaver(environ=platform_env)
    first = saver(settings, Tokens("first-token"), ADVERTISERS)
    before_files, before_rows = snapshot(settings), rows(platform_env)
    # The second advertiser's row is refused by the database after the first one's update
    # went through in the same transaction.
    with psycopg.connect("", autocommit=True) as conn:
        conn.execute(
            "ALTER TABLE dra_data_sources ADD CONSTRAINT refuse_rename"
            " CHECK (name <> 'Shop Two renamed')"
        )
    renamed = [ADVERTISERS[0], replace(ADVERTISERS[1], name="Shop Two renamed")]
    with pytest.raises(SaveError, match="refuse_rename"):
        saver(settings, Tokens("second-token", refresh_token="refresh-2"), renamed)
    assert snapshot(settings) == before_files
    assert rows(platform_env) == before_rows
    envelopes = {row[0]: row[4] for row in before_rows}
    details = crypto.decrypt_details(
        envelopes[first.data_source_ids[ONE]], platform_env["ENCRYPTION_KEY"]
    )
    assert details["access_token"] == "first-token"


def test_a_failure_on_a_fresh_project_leaves_nothing_behind(settings, platform_env):
    with psycopg.connect("", autocommit=True) as conn:
        registration.ensure_platform_objects(conn)
        conn.execute(
            "ALTER TABLE dra_data_sources ADD CONSTRAINT refuse_two"
            f" CHECK (sync_config ->> 'advertiser_id' <> '{TWO}')"
        )
    with pytest.raises(SaveError, match="refuse_two"):
        ConnectionSaver(environ=platform_env)(settings, Tokens("tok"), ADVERTISERS)
    assert rows(platform_env) == []
    assert not settings.env_file.exists()
    assert not list(settings.token_store_dir.iterdir())


def test_an_env_file_that_cannot_be_written_leaves_the_stores_and_rows_alone(
    settings, platform_env
):
    ConnectionSaver(environ=platform_env)(settings, Tokens("first-token"), ADVERTISERS[:1])
    before_rows = rows(platform_env)
    blocked = replace(settings, env_file=settings.token_store_dir / "not-a-folder" / ".env")
    (settings.token_store_dir / "not-a-folder").write_text("")
    with pytest.raises(SaveError, match="TIKTOK_ADS_ENV_FILE"):
        ConnectionSaver(environ=platform_env)(blocked, Tokens("second-token"), ADVERTISERS)
    stored = TokenStore(settings.token_store_path(ONE)).load()
    assert stored is not None
    assert stored.access_token == "first-token"
    assert not settings.token_store_path(TWO).exists()
    assert rows(platform_env) == before_rows
    assert not list(settings.token_store_dir.glob(f".*{SUFFIX}"))


def test_a_file_that_cannot_be_put_in_place_says_so_and_leaves_no_temp_file(settings, monkeypatch):
    installed: list[Path] = []
    real_install = StagedFile.install

    def install_once(self: StagedFile) -> None:
        if installed:
            raise PermissionError(13, "Permission denied")
        installed.append(self.path)
        real_install(self)

    monkeypatch.setattr(StagedFile, "install", install_once)
    with pytest.raises(SaveError, match="save again"):
        ConnectionSaver(environ={})(settings, Tokens("tok"), ADVERTISERS)
    assert not list(settings.token_store_dir.glob(f".*{SUFFIX}"))
    assert not list(settings.env_file.parent.glob(f".*{SUFFIX}"))


def test_a_300_character_name_is_stored_shortened_and_kept_whole(settings, platform_env):
    long_name = "Shop " + "x" * 295
    saver = ConnectionSaver(environ=platform_env)
    result = saver(settings, Tokens("tok"), [replace(ADVERTISERS[0], name=long_name)])
    [(_, name, _, _, _, sync_config)] = rows(platform_env)
    assert len(name) == registration.NAME_MAX_LENGTH
    assert name.endswith("\N{HORIZONTAL ELLIPSIS}")
    assert long_name.startswith(name[:-1])
    assert sync_config["full_name"] == long_name
    assert result.data_source_ids == {ONE: result.advertisers[0].data_source_id}
    # A later, shorter name replaces it and drops the stale full name.
    saver(settings, Tokens("tok"), ADVERTISERS[:1])
    [(_, name, _, _, _, sync_config)] = rows(platform_env)
    assert name == "Shop One"
    assert "full_name" not in sync_config
    assert json.loads(settings.token_store_path(ONE).read_text())["advertiser_ids"] == [ONE]


# --- through the web flow ------------------------------------------------------------------


def connect_in_browser(browser, tiktok, token: str, advertiser_id: str):
    tiktok.post(EXCHANGE, json=envelope({"access_token": token, "advertiser_ids": []}))
    save_advertisers(browser, advertiser_id)
    return browser.get("/oauth/tiktok/done")


def test_a_300_character_advertiser_name_is_saved_not_a_500_page(
    make_browser, tiktok, settings, platform_env
):
    long_name = "Boutique <b>" + "é" * 288
    tiktok.get(
        ADVERTISER_INFO,
        json=envelope({"list": [{"advertiser_id": FIRST_ID, "name": long_name}]}),
    )
    browser = make_browser(saver=ConnectionSaver(environ=platform_env))
    done = connect_in_browser(browser, tiktok, ACCESS_TOKEN, FIRST_ID)
    assert done.status == 200
    assert "data source" in done.body
    assert "<b>" not in done.body  # escaped
    [(_, name, *_)] = rows(platform_env)
    assert len(name) == registration.NAME_MAX_LENGTH
    assert_no_secrets(browser)


def test_two_accounts_connected_one_after_another_keep_both_stores(make_browser, tiktok, settings):
    """As with --keep-running: one app, two sign-ins, two advertisers."""
    browser = make_browser()
    first = connect_in_browser(browser, tiktok, "token-one", FIRST_ID)
    second = connect_in_browser(Browser(browser.app), tiktok, "token-two", SECOND_ID)
    for advertiser_id, token, done in (
        (FIRST_ID, "token-one", first),
        (SECOND_ID, "token-two", second),
    ):
        stored = TokenStore(settings.token_store_path(advertiser_id)).load()
        assert stored is not None
        assert (stored.access_token, stored.advertiser_ids) == (token, [advertiser_id])
        assert str(settings.token_store_path(advertiser_id)) in done.body
        assert token not in done.body
