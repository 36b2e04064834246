"""Loading behaviour on a fresh database: upserts, re-runs, cascading deletes, incremental
batches, full refresh, empty and missing raw tables, values that do not fit."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from dra_tiktok_ads import registration
from tests.transform import dataset, harness, raw_layer
from tests.transform.platform_catalog import read_catalog

LATER_SYNC = dataset.SYNC_TIME + dt.timedelta(days=1)
LOOKBACK_DAY = dataset.FIRST_DAY + dt.timedelta(days=dataset.DAYS - 3)
MART_TABLES = ("advertiser_info", "campaign_performance", "ad_group_performance")


@pytest.fixture
def loaded(db_connection, dbt_runner):
    ids = harness.register_sources(db_connection)
    harness.load_dataset(db_connection, ids)
    dbt_runner.build()
    return ids


def _counts(conn):
    return {
        table: conn.execute(f"SELECT count(*) FROM dra_tiktok_ads.{table}").fetchone()[0]
        for table in MART_TABLES
    }


def _campaign_row(conn, data_source_id, campaign_id="1701", day=LOOKBACK_DAY):
    return conn.execute(
        "SELECT id, spend, conversions, impressions FROM dra_tiktok_ads.campaign_performance"
        " WHERE data_source_id = %s AND campaign_id = %s AND stat_date = %s",
        (data_source_id, campaign_id, day),
    ).fetchone()


def _reload_day(conn, data_source_id, *, spend, conversion, batched_at=LATER_SYNC):
    """A later sync re-reads a lookback day with revised (late-attributed) numbers."""
    raw_layer.load_rows(
        conn,
        "campaign_performance",
        [
            {
                "data_source_id": data_source_id,
                "advertiser_id": dataset.SHARED.advertiser_id,
                "campaign_id": "1701",
                "stat_date": LOOKBACK_DAY,
                "spend": spend,
                "impressions": 5000,
                "clicks": 50,
                "conversion": conversion,
            }
        ],
        batched_at=batched_at,
    )


def _model_result(dbt_output, model):
    """The adapter response dbt printed for a platform-table model ("INSERT 0 n")."""
    for line in dbt_output.splitlines():
        if f"model dra_tiktok_ads.{model} " in line and "OK created" in line:
            return re.search(r"INSERT 0 \d+", line).group(0)
    raise AssertionError(f"no result line for {model}:\n{dbt_output}")


def _insert_duplicate_versions(conn, data_source_id, day):
    """Two versions of one key in a single batch, as a loader without the key as primary
    key (or two loads before one dbt run) can deliver; the later load must win."""
    conn.execute(
        f"ALTER TABLE {raw_layer.RAW_SCHEMA}.campaign_performance"
        " DROP CONSTRAINT IF EXISTS campaign_performance_pkey"
    )
    for offset, spend in ((1, Decimal("10.00")), (2, Decimal("20.00"))):
        conn.execute(
            f"INSERT INTO {raw_layer.RAW_SCHEMA}.campaign_performance (data_source_id,"
            " advertiser_id, campaign_id, stat_date, spend, _sdc_batched_at, _sdc_sequence)"
            " VALUES (%s, %s, '1701', %s, %s, %s, %s)",
            (
                data_source_id,
                dataset.SHARED.advertiser_id,
                day,
                spend,
                LATER_SYNC + dt.timedelta(minutes=offset),
                offset,
            ),
        )


def test_reloads_update_in_place_and_reruns_are_idempotent(db_connection, dbt_runner, loaded):
    conn = db_connection
    tenant = loaded["tenant_b"]
    counts = _counts(conn)
    versions = "SELECT id, xmin::text FROM dra_tiktok_ads.campaign_performance ORDER BY id"
    before = conn.execute(versions).fetchall()

    # A re-run with nothing new loaded reads nothing and rewrites nothing.
    rerun = dbt_runner.run("run")
    assert conn.execute(versions).fetchall() == before
    assert _model_result(rerun.stdout, "campaign_performance") == "INSERT 0 0"

    # The next sync re-reads a lookback day with revised numbers, and twice another day.
    row_id, *_ = _campaign_row(conn, tenant)
    other_tenant = _campaign_row(conn, loaded["mixed"])
    _reload_day(conn, tenant, spend=Decimal("999.99"), conversion=7)
    earlier_day = LOOKBACK_DAY - dt.timedelta(days=1)
    _insert_duplicate_versions(conn, tenant, earlier_day)
    # ...and the advertiser was renamed (advertiser_info has no UNIQUE constraint to lean on).
    advertiser = {"data_source_id": tenant, "advertiser_id": dataset.SHARED.advertiser_id}
    raw_layer.load_rows(
        conn,
        "advertiser_info",
        [advertiser | {"name": "Shop US (renamed)", "currency": "USD"}],
        batched_at=LATER_SYNC,
    )
    reload = dbt_runner.build()
    assert conn.execute(
        "SELECT advertiser_name, synced_at FROM dra_tiktok_ads.advertiser_info"
        " WHERE data_source_id = %s",
        (tenant,),
    ).fetchall() == [("Shop US (renamed)", LATER_SYNC)]
    assert _counts(conn) == counts
    assert _campaign_row(conn, tenant) == (row_id, Decimal("999.99"), 7, 5000)
    assert _campaign_row(conn, tenant, day=earlier_day)[1] == Decimal("20.00")
    assert _campaign_row(conn, loaded["mixed"]) == other_tenant  # same advertiser, apart
    # Only the batch was written: two campaign rows updated, nothing else touched.
    assert _model_result(reload.stdout, "campaign_performance") == "INSERT 0 2"

    # A value beyond the platform type holds back that data source's batch with a clear
    # message (tests/transform/test_quarantine.py: the build of that data source fails).
    conn.execute(
        f"INSERT INTO {raw_layer.RAW_SCHEMA}.campaign_performance (data_source_id,"
        " advertiser_id, campaign_id, stat_date, spend, _sdc_batched_at)"
        " VALUES (%s, %s, '1701', %s, 12345678901.00, %s)",
        (tenant, dataset.SHARED.advertiser_id, LOOKBACK_DAY, LATER_SYNC + dt.timedelta(hours=1)),
    )
    overflow = dbt_runner.run("run")
    assert "spend does not fit NUMERIC(12,2)" in overflow.stdout
    assert "nothing was written" in overflow.stdout
    assert _campaign_row(conn, tenant) == (row_id, Decimal("999.99"), 7, 5000)


def test_deleted_data_source_cascades_and_full_refresh_keeps_ids(db_connection, dbt_runner, loaded):
    conn = db_connection
    gone = loaded["tenant_b"]
    conn.execute("DELETE FROM dra_data_sources WHERE id = %s", (gone,))
    for table in MART_TABLES:
        left = conn.execute(
            f"SELECT count(*) FROM dra_tiktok_ads.{table} WHERE data_source_id = %s", (gone,)
        ).fetchone()
        assert left == (0,), table
    # New raw rows still arrive for it (a run already in flight); then a rebuild that reads
    # everything (full refresh) must neither fail nor bring the data source back.
    _reload_day(conn, gone, spend=Decimal("5.00"), conversion=1)
    ids_before = conn.execute(
        "SELECT id FROM dra_tiktok_ads.campaign_performance ORDER BY id"
    ).fetchall()
    conn.execute("DELETE FROM dra_tiktok_ads.campaign_performance WHERE id = %s", ids_before[0])
    dbt_runner.build("--full-refresh")
    for table in MART_TABLES:
        left = conn.execute(
            f"SELECT count(*) FROM dra_tiktok_ads.{table} WHERE data_source_id = %s", (gone,)
        ).fetchone()
        assert left == (0,), table
    ids_after = conn.execute(
        "SELECT id FROM dra_tiktok_ads.campaign_performance ORDER BY id"
    ).fetchall()
    # The hand-deleted row is back (new id); every other row kept its id.
    assert len(ids_after) == len(ids_before)
    assert ids_after[:-1] == ids_before[1:]
    zero = conn.execute(
        "SELECT impressions FROM dra_tiktok_ads.channel_metrics(%s, '2024-01-01', '2024-12-31')",
        (gone,),
    ).fetchone()
    assert zero == (0,)


def test_registered_later_data_source_is_picked_up(db_connection, dbt_runner):
    # Raw rows for data source 1 arrive before it is registered: nothing is loaded, and the
    # watermark does not move past them.
    registration.ensure_platform_objects(db_connection)
    raw_layer.create_raw_tables(db_connection)
    harness.load_dataset(db_connection, dict.fromkeys(dataset.DATA_SOURCES, 1))
    dbt_runner.build()
    assert sum(_counts(db_connection).values()) == 0
    db_connection.execute(
        "INSERT INTO dra_data_sources (id, name, data_type, connection_details)"
        " VALUES (1, 'late', 'tiktok_ads', '{}')"
    )
    dbt_runner.build()
    assert _counts(db_connection)["campaign_performance"] > 0


def test_two_pipelines_building_at_once_both_succeed(db_connection, fresh_database, tmp_path):
    """Data sources run their pipelines in parallel, each ending in `dbt build`; the very
    first builds on an empty database included."""
    ids = harness.register_sources(db_connection)
    harness.load_dataset(db_connection, ids)
    runners = [harness.DbtRunner(fresh_database, tmp_path / f"run{n}") for n in (1, 2)]
    processes = [runner.start("build") for runner in runners]
    outputs = [process.communicate(timeout=300)[0] for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    campaigns = sum(len(a.campaigns) for ads in dataset.DATA_SOURCES.values() for a in ads)
    expected = dataset.DAYS * campaigns
    assert _counts(db_connection)["campaign_performance"] == expected


def test_empty_database_and_empty_raw_tables_build_twice(
    db_connection, dbt_runner, contract_catalog
):
    raw_layer.create_raw_tables(db_connection)
    dbt_runner.build()
    dbt_runner.build()
    assert sum(_counts(db_connection).values()) == 0
    # dbt's on-run-start ran the platform contract, as registration.ensure_platform_objects
    # does: the enum with 'tiktok_ads', dra_data_sources and the three platform tables.
    assert read_catalog(db_connection) == contract_catalog
    row = db_connection.execute(
        "SELECT * FROM dra_tiktok_ads.channel_metrics(1, '2024-01-01', '2024-01-31')"
    ).fetchone()
    assert row[:2] == ("tiktok_ads", "TikTok Ads")


def test_a_platform_column_no_model_fills_stops_the_load(db_connection, dbt_runner):
    # The upsert takes the columns from the catalog, not from a copy of the DDL: a column the
    # platform added is noticed by name, never silently left to its default.
    registration.ensure_platform_objects(db_connection)
    raw_layer.create_raw_tables(db_connection)
    db_connection.execute("ALTER TABLE dra_tiktok_ads.ad_group_performance ADD COLUMN cpa NUMERIC")
    result = dbt_runner.run("run", check=False)
    assert result.returncode != 0
    assert "Model ad_group_performance does not select column(s) cpa" in result.stdout
    assert "platform_contract.sql" in result.stdout


def test_missing_raw_table_fails_with_an_actionable_message(db_connection, dbt_runner):
    raw_layer.create_raw_tables(db_connection, ["advertiser_info", "campaigns"])
    result = dbt_runner.build(check=False)
    assert result.returncode != 0
    assert "tiktok_ads.ad_groups" in result.stdout
    assert "meltano run tap-tiktok-ads target-postgres" in result.stdout
