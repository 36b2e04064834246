"""Data source registration: platform objects, create-or-find, encrypted details, CLI."""

from __future__ import annotations

import io
import json

import psycopg
import pytest

from dra_tiktok_ads import crypto, registration
from dra_tiktok_ads.details import ConnectionDetails
from tests.transform import platform_catalog

KEY = "11" * 32
ADVERTISER = "7000000000000000001"
DETAILS = {"access_token": "act.very-secret", "refresh_token": "rft.very-secret", "app_id": "a"}


def _details(**fields) -> ConnectionDetails:
    return ConnectionDetails.from_json({"advertiser_ids": [ADVERTISER], **fields})


def _register(conn, **overrides):
    arguments = {
        "advertiser_id": ADVERTISER,
        "advertiser_name": "Shop US",
        "details": _details(**DETAILS),
        "key_hex": KEY,
    } | overrides
    return registration.register_data_source(conn, **arguments)


def test_platform_objects_are_created_idempotently(db_connection, postgres_server):
    registration.ensure_platform_objects(db_connection)
    registration.ensure_platform_objects(db_connection)
    # The platform contract's objects, once (the contract is pinned to the platform's
    # specification in tests/transform/test_platform_contract.py)...
    catalog = platform_catalog.read_catalog(db_connection)
    assert catalog == platform_catalog.contract_catalog(postgres_server)
    # ...with what registration needs: the new enum value, and the schema of the tables.
    assert catalog[f"enum {platform_catalog.ENUM}"][-1] == "tiktok_ads"
    assert db_connection.execute(
        "SELECT 1 FROM information_schema.schemata WHERE schema_name = 'dra_tiktok_ads'"
    ).fetchone()


def test_existing_platform_objects_are_left_alone(db_connection):
    # The platform created them first, with an older enum and a column of its own.
    db_connection.execute(
        "CREATE TYPE dra_data_sources_data_type_enum AS ENUM ('postgresql', 'google_ads')"
    )
    db_connection.execute(
        "CREATE TABLE dra_data_sources (id SERIAL PRIMARY KEY, name VARCHAR(255) NOT NULL,"
        " data_type dra_data_sources_data_type_enum NOT NULL, connection_details JSONB NOT NULL,"
        " platform_only TEXT)"
    )
    db_connection.execute(
        "INSERT INTO dra_data_sources (name, data_type, connection_details)"
        " VALUES ('ads', 'google_ads', '{}')"
    )
    registration.ensure_platform_objects(db_connection)
    values = db_connection.execute(
        "SELECT enum_range(NULL::dra_data_sources_data_type_enum)::text[]"
    ).fetchone()[0]
    assert values == ["postgresql", "google_ads", "tiktok_ads"]
    assert db_connection.execute("SELECT name, platform_only FROM dra_data_sources").fetchall() == [
        ("ads", None)
    ]
    # The TikTok tables are created beside the platform's own registry, referencing it.
    tables = platform_catalog.read_catalog(db_connection)
    assert all(
        "FOREIGN KEY (data_source_id) REFERENCES dra_data_sources(id) ON DELETE CASCADE"
        in tables[f"dra_tiktok_ads.{table}"]
        for table in ("advertiser_info", "campaign_performance", "ad_group_performance")
    )


def test_ensure_refuses_an_open_transaction(fresh_database):
    conninfo = " ".join(
        f"{k}={fresh_database[v]}"
        for k, v in (("host", "PGHOST"), ("port", "PGPORT"), ("user", "PGUSER"),
                     ("password", "PGPASSWORD"), ("dbname", "PGDATABASE"))
    )  # fmt: skip
    with psycopg.connect(conninfo) as conn:
        conn.execute("SELECT 1")
        with pytest.raises(registration.RegistrationError, match="outside a transaction"):
            registration.ensure_platform_objects(conn)


def test_register_creates_then_finds_and_updates(db_connection):
    first = _register(db_connection)
    row = db_connection.execute(
        "SELECT name, data_type::text, classification, sync_schedule, sync_enabled,"
        " connection_details FROM dra_data_sources WHERE id = %s",
        (first,),
    ).fetchone()
    name, data_type, classification, schedule, enabled, stored = row
    assert (name, data_type, classification, schedule, enabled) == (
        "Shop US",
        "tiktok_ads",
        "marketing_campaign_data",
        "daily",
        True,
    )
    assert "very-secret" not in json.dumps(stored)
    assert crypto.decrypt_details(stored, KEY) == {"advertiser_ids": [ADVERTISER], **DETAILS}

    again = _register(db_connection, details=_details(access_token="act.rotated"))
    assert again == first
    assert registration.read_connection_details(db_connection, first, KEY).to_json() == {
        "advertiser_ids": [ADVERTISER],
        "access_token": "act.rotated",
    }
    assert db_connection.execute("SELECT count(*) FROM dra_data_sources").fetchone() == (1,)


def test_same_advertiser_in_another_project_is_another_data_source(db_connection):
    first = _register(db_connection, project_id=1)
    second = _register(db_connection, project_id=2)
    assert first != second


def test_a_name_longer_than_the_column_is_shortened_and_kept_whole(db_connection):
    long_name = "Shop " + "x" * 295  # dra_data_sources.name is VARCHAR(255)
    data_source = _register(db_connection, advertiser_name=long_name)
    name, sync_config = db_connection.execute(
        "SELECT name, sync_config FROM dra_data_sources WHERE id = %s", (data_source,)
    ).fetchone()
    assert len(name) == 255
    assert name == long_name[:254] + "\N{HORIZONTAL ELLIPSIS}"
    assert sync_config["full_name"] == long_name
    assert sync_config["advertiser_id"] == ADVERTISER


def test_registrations_in_one_transaction_land_together(db_connection):
    """Inside a caller's transaction (as the connect flow saves several advertisers), a
    failure on the second registration takes the first one back too."""
    second = "7000000000000000002"
    registration.ensure_platform_objects(db_connection)
    db_connection.execute(
        "ALTER TABLE dra_data_sources ADD CONSTRAINT no_second CHECK (name <> 'Second')"
    )
    details = ConnectionDetails.from_json({"advertiser_ids": [second], **DETAILS})

    def register_both() -> None:
        with db_connection.transaction():
            _register(db_connection)
            _register(
                db_connection, advertiser_id=second, advertiser_name="Second", details=details
            )

    with pytest.raises(psycopg.errors.CheckViolation):
        register_both()
    assert db_connection.execute("SELECT count(*) FROM dra_data_sources").fetchone() == (0,)


def test_details_are_unreadable_with_another_key(db_connection):
    data_source_id = _register(db_connection)
    with pytest.raises(crypto.ConnectionDetailsError, match="different ENCRYPTION_KEY"):
        registration.read_connection_details(db_connection, data_source_id, "22" * 32)


def test_cli_reads_secrets_from_env_and_stdin_and_prints_only_the_id(
    fresh_database, monkeypatch, capsys, db_connection
):
    for name, value in fresh_database.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ENCRYPTION_KEY", KEY)
    monkeypatch.setenv("MY_TIKTOK_TOKEN", "act.from-env")
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps({"refresh_token": "rft.stdin"})))
    argv = ["--advertiser-id", ADVERTISER, "--access-token-env", "MY_TIKTOK_TOKEN"]
    assert registration.main([*argv, "--details-file", "-", "--schedule", "hourly"]) == 0
    out, err = capsys.readouterr()
    data_source_id = int(out.strip())
    assert "act." not in out + err
    assert "rft." not in out + err
    assert registration.read_connection_details(db_connection, data_source_id, KEY).to_json() == {
        "advertiser_ids": [ADVERTISER],
        "refresh_token": "rft.stdin",
        "access_token": "act.from-env",
    }
    # Running it again finds the same data source.
    assert registration.main(argv) == 0
    assert int(capsys.readouterr().out.strip()) == data_source_id


def test_cli_explains_missing_key_and_token(fresh_database, monkeypatch, capsys):
    for name, value in fresh_database.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("ENCRYPTION_KEY", raising=False)
    assert registration.main(["--advertiser-id", ADVERTISER]) == 2
    assert "ENCRYPTION_KEY" in capsys.readouterr().err
    monkeypatch.setenv("ENCRYPTION_KEY", KEY)
    assert registration.main(["--advertiser-id", ADVERTISER]) == 2
    assert "--access-token-env" in capsys.readouterr().err


def test_cli_has_no_argument_that_takes_a_secret():
    options = {
        option
        for action in registration.build_parser()._actions
        for option in action.option_strings
    }
    assert not {"--access-token", "--refresh-token", "--app-secret"} & options
