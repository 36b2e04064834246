"""After a build, the platform objects are exactly the platform contract's, and the three
platform tables hold what DESIGN.md says each column means."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from tests.transform import dataset
from tests.transform.platform_catalog import read_catalog


def test_platform_objects_are_the_contracts_after_a_build(built_warehouse, contract_catalog):
    # Columns (types, NOT NULL, defaults), primary keys, UNIQUE keys, the cascading foreign
    # key and indexes as the contract creates them (pinned to the platform's specification in
    # test_platform_contract.py): the build adds, drops and alters none of them.
    assert read_catalog(built_warehouse.conn) == contract_catalog


def test_performance_tables_are_indexed_for_date_ranges(built_warehouse):
    conn = built_warehouse.conn
    indexes = conn.execute(
        "SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = 'dra_tiktok_ads'"
        " AND indexdef NOT LIKE '%%UNIQUE%%'"
    ).fetchall()
    assert sorted(table for table, _ in indexes) == ["ad_group_performance", "campaign_performance"]
    assert all(definition.endswith("(data_source_id, stat_date)") for _, definition in indexes)


def test_a_bulk_load_leaves_statistics_for_the_tests_that_follow(built_warehouse):
    # The first build writes every row: the upsert analyzes what it wrote (autovacuum would
    # only come later), and reltuples is the analyzed row count, not -1 (never analyzed).
    stats = dict(
        built_warehouse.conn.execute(
            "SELECT c.relname, c.reltuples::bigint FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'dra_tiktok_ads' AND c.relkind = 'r'"
        ).fetchall()
    )
    for table in ("campaign_performance", "ad_group_performance"):
        (rows,) = built_warehouse.conn.execute(
            f"SELECT count(*) FROM dra_tiktok_ads.{table}"
        ).fetchone()
        assert rows > 0
        assert stats[table] == rows, table


def test_schema_holds_only_the_platform_objects(built_warehouse):
    relations = built_warehouse.conn.execute(
        "SELECT table_name, table_type FROM information_schema.tables"
        " WHERE table_schema = 'dra_tiktok_ads' ORDER BY 1"
    ).fetchall()
    assert relations == [
        ("ad_group_performance", "BASE TABLE"),
        ("advertiser_info", "BASE TABLE"),
        ("campaign_performance", "BASE TABLE"),
        ("marketing_channel_daily", "VIEW"),
    ]
    functions = built_warehouse.conn.execute(
        "SELECT p.proname, pg_get_function_identity_arguments(p.oid) FROM pg_proc p"
        " JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'dra_tiktok_ads'"
    ).fetchall()
    assert functions == [
        ("channel_metrics", "p_data_source_id integer, p_start_date date, p_end_date date")
    ]


def test_every_day_campaign_and_ad_group_is_loaded_once_per_data_source(built_warehouse):
    counts = dict(
        built_warehouse.conn.execute(
            "SELECT data_source_id, count(*) FROM dra_tiktok_ads.campaign_performance GROUP BY 1"
        ).fetchall()
    )
    expected = {
        built_warehouse.ids[label]: dataset.DAYS * sum(len(a.campaigns) for a in advertisers)
        for label, advertisers in dataset.DATA_SOURCES.items()
    }
    assert counts == expected
    ad_groups = built_warehouse.conn.execute(
        "SELECT count(*) FROM dra_tiktok_ads.ad_group_performance"
    ).fetchone()
    assert ad_groups == (sum(expected.values()),)


def test_tiktok_only_metrics_are_stored(built_warehouse):
    day = 12
    row = built_warehouse.conn.execute(
        "SELECT video_views, video_play_actions, reach, impressions"
        " FROM dra_tiktok_ads.campaign_performance"
        " WHERE data_source_id = %s AND campaign_id = '1701' AND stat_date = %s",
        (built_warehouse.ids["tenant_b"], dataset.FIRST_DAY + dt.timedelta(days=day)),
    ).fetchone()
    assert row is not None
    video_views, six_second_views, reach, impressions = row
    assert video_views == 300 + day  # API video_play_actions
    assert six_second_views == 100 + day  # API video_watched_6s
    assert reach == impressions // 2


def test_dash_metrics_become_zero_and_names_fall_back_to_the_entity(built_warehouse):
    # Day 4 carries "-" for conversion, cost_per_conversion, conversion_rate and reach;
    # day 0 has no campaign_name in the report row.
    rows = built_warehouse.conn.execute(
        "SELECT stat_date, conversions, cost_per_conversion, conversion_rate, reach,"
        " campaign_name FROM dra_tiktok_ads.campaign_performance"
        " WHERE data_source_id = %s AND campaign_id = '1701' AND stat_date IN (%s, %s)"
        " ORDER BY stat_date",
        (
            built_warehouse.ids["tenant_b"],
            dataset.FIRST_DAY,
            dataset.FIRST_DAY + dt.timedelta(days=4),
        ),
    ).fetchall()
    assert rows[0][5] == "Campaign 1701"
    assert rows[1][1:5] == (0, Decimal("0.00"), Decimal("0.0000"), 0)


def test_status_comes_from_the_campaign_entity(built_warehouse):
    statuses = dict(
        built_warehouse.conn.execute(
            "SELECT DISTINCT campaign_id, status FROM dra_tiktok_ads.campaign_performance"
            " WHERE data_source_id = %s",
            (built_warehouse.ids["mixed"],),
        ).fetchall()
    )
    assert statuses == {
        "1701": "CAMPAIGN_STATUS_ENABLE",
        "1702": "CAMPAIGN_STATUS_DELETE",
        "1801": "CAMPAIGN_STATUS_ENABLE",
    }


def test_ad_group_cpl_is_spend_per_conversion_or_zero(built_warehouse):
    wrong = built_warehouse.conn.execute(
        "SELECT count(*) FROM dra_tiktok_ads.ad_group_performance WHERE cpl <>"
        " CASE WHEN conversions = 0 THEN 0 ELSE round(spend / conversions, 2) END"
    ).fetchone()
    assert wrong == (0,)
    quiet = built_warehouse.conn.execute(
        "SELECT max(cpl), max(conversions) FROM dra_tiktok_ads.ad_group_performance"
        " WHERE data_source_id = %s",
        (built_warehouse.ids["quiet"],),
    ).fetchone()
    assert quiet == (Decimal("0.00"), 0)


def test_advertiser_info_is_stamped_with_the_sync_time(built_warehouse):
    rows = built_warehouse.conn.execute(
        "SELECT data_source_id, advertiser_id, advertiser_name, currency, synced_at"
        " FROM dra_tiktok_ads.advertiser_info ORDER BY data_source_id, advertiser_id"
    ).fetchall()
    expected = [
        (built_warehouse.ids[label], a.advertiser_id, a.name, a.currency, dataset.SYNC_TIME)
        for label, advertisers in dataset.DATA_SOURCES.items()
        for a in advertisers
    ]
    assert rows == sorted(expected)


def test_tenants_sharing_an_advertiser_stay_apart(built_warehouse):
    rows = built_warehouse.conn.execute(
        "SELECT data_source_id, sum(spend) FROM dra_tiktok_ads.campaign_performance"
        " WHERE campaign_id = '1701' GROUP BY 1 ORDER BY 1"
    ).fetchall()
    ids = built_warehouse.ids
    assert [row[0] for row in rows] == sorted([ids["mixed"], ids["tenant_b"]])
    assert rows[0][1] != rows[1][1]  # metrics are seeded per data source


def test_every_model_and_column_is_documented(built_warehouse):
    # Run from inside transform/ without --project-dir/--profiles-dir: the plain command works.
    built_warehouse.dbt.run_in_project("docs", "generate")
    target = built_warehouse.dbt.work_dir / "target"
    manifest = json.loads((target / "manifest.json").read_text())
    catalog = json.loads((target / "catalog.json").read_text())
    assert len(catalog["nodes"]) == 10
    undocumented = []
    for unique_id, node in catalog["nodes"].items():
        model = manifest["nodes"][unique_id]
        if not model["description"]:
            undocumented.append(unique_id)
        documented = {name for name, column in model["columns"].items() if column["description"]}
        undocumented += [
            f"{unique_id}.{name}" for name in node["columns"] if name not in documented
        ]
    assert undocumented == []
