"""The three platform tables match dra_tiktok_ads.sql column by column, with their
constraints, and hold what DESIGN.md says each column means."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from tests.transform import dataset

# (column, data_type, max length, numeric precision, scale, nullable, default)
EXPECTED_COLUMNS = {
    "advertiser_info": [
        ("id", "integer", None, 32, 0, "NO", "nextval"),
        ("data_source_id", "integer", None, 32, 0, "NO", None),
        ("advertiser_id", "character varying", 50, None, None, "NO", None),
        ("advertiser_name", "character varying", 512, None, None, "YES", None),
        ("currency", "character varying", 10, None, None, "YES", None),
        ("timezone", "character varying", 50, None, None, "YES", None),
        ("synced_at", "timestamp without time zone", None, None, None, "YES", None),
    ],
    "campaign_performance": [
        ("id", "integer", None, 32, 0, "NO", "nextval"),
        ("data_source_id", "integer", None, 32, 0, "NO", None),
        ("stat_date", "date", None, None, None, "NO", None),
        ("campaign_id", "character varying", 50, None, None, "NO", None),
        ("campaign_name", "character varying", 512, None, None, "YES", None),
        ("objective_type", "character varying", 100, None, None, "YES", None),
        ("status", "character varying", 50, None, None, "YES", None),
        ("spend", "numeric", None, 12, 2, "YES", "0"),
        ("impressions", "bigint", None, 64, 0, "YES", "0"),
        ("clicks", "integer", None, 32, 0, "YES", "0"),
        ("ctr", "numeric", None, 8, 4, "YES", "0"),
        ("cpm", "numeric", None, 10, 4, "YES", "0"),
        ("cpc", "numeric", None, 10, 4, "YES", "0"),
        ("conversions", "integer", None, 32, 0, "YES", "0"),
        ("cost_per_conversion", "numeric", None, 10, 2, "YES", "0"),
        ("conversion_rate", "numeric", None, 8, 4, "YES", "0"),
        ("video_views", "bigint", None, 64, 0, "YES", "0"),
        ("video_play_actions", "bigint", None, 64, 0, "YES", "0"),
        ("reach", "bigint", None, 64, 0, "YES", "0"),
    ],
    "ad_group_performance": [
        ("id", "integer", None, 32, 0, "NO", "nextval"),
        ("data_source_id", "integer", None, 32, 0, "NO", None),
        ("stat_date", "date", None, None, None, "NO", None),
        ("campaign_id", "character varying", 50, None, None, "NO", None),
        ("ad_group_id", "character varying", 50, None, None, "NO", None),
        ("ad_group_name", "character varying", 512, None, None, "YES", None),
        ("spend", "numeric", None, 12, 2, "YES", "0"),
        ("impressions", "bigint", None, 64, 0, "YES", "0"),
        ("clicks", "integer", None, 32, 0, "YES", "0"),
        ("conversions", "integer", None, 32, 0, "YES", "0"),
        ("cpl", "numeric", None, 10, 2, "YES", "0"),
    ],
}
UNIQUE_KEYS = {
    "advertiser_info": [],
    "campaign_performance": [["data_source_id", "stat_date", "campaign_id"]],
    "ad_group_performance": [["data_source_id", "stat_date", "ad_group_id"]],
}


def test_columns_match_the_platform_ddl(built_warehouse):
    for table, expected in EXPECTED_COLUMNS.items():
        rows = built_warehouse.conn.execute(
            "SELECT column_name, data_type, character_maximum_length, numeric_precision,"
            " numeric_scale, is_nullable, column_default FROM information_schema.columns"
            " WHERE table_schema = 'dra_tiktok_ads' AND table_name = %s ORDER BY ordinal_position",
            (table,),
        ).fetchall()
        actual = [(*row[:6], None if row[6] is None else row[6].split("(")[0]) for row in rows]
        assert actual == expected, table


def test_keys_unique_constraints_and_cascading_foreign_key(built_warehouse):
    conn = built_warehouse.conn
    for table, unique_keys in UNIQUE_KEYS.items():
        constraints = conn.execute(
            "SELECT tc.constraint_type,"
            " array_agg(kcu.column_name::text ORDER BY kcu.ordinal_position)"
            " FROM information_schema.table_constraints tc"
            " JOIN information_schema.key_column_usage kcu"
            " USING (constraint_schema, constraint_name)"
            " WHERE tc.table_schema = 'dra_tiktok_ads' AND tc.table_name = %s"
            " GROUP BY tc.constraint_name, tc.constraint_type ORDER BY 1, 2",
            (table,),
        ).fetchall()
        assert constraints == sorted(
            [("FOREIGN KEY", ["data_source_id"]), ("PRIMARY KEY", ["id"])]
            + [("UNIQUE", key) for key in unique_keys]
        ), table
        reference = conn.execute(
            "SELECT ccu.table_name, ccu.column_name, rc.delete_rule"
            " FROM information_schema.referential_constraints rc"
            " JOIN information_schema.table_constraints tc"
            " USING (constraint_schema, constraint_name)"
            " JOIN information_schema.constraint_column_usage ccu"
            "   ON ccu.constraint_schema = rc.unique_constraint_schema"
            "  AND ccu.constraint_name = rc.unique_constraint_name"
            " WHERE tc.table_schema = 'dra_tiktok_ads' AND tc.table_name = %s",
            (table,),
        ).fetchall()
        assert reference == [("dra_data_sources", "id", "CASCADE")], table
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
