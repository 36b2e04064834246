"""One data source's bad rows never block another's: the transform quarantines that data
source's batch per table (none of it written, the reason recorded), the others load in the
same build, and a build run for that data source fails. Deleted data sources lose their raw
rows at the next build."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tests.transform import dataset, harness, raw_layer

LATER_SYNC = dataset.SYNC_TIME + dt.timedelta(days=1)
DAY = dataset.FIRST_DAY + dt.timedelta(days=dataset.DAYS - 2)
OTHER_DAY = DAY - dt.timedelta(days=1)
LONG_NAME = "N" * 600  # the platform's campaign_name is VARCHAR(512)
HUGE_SPEND = Decimal("99999999999.99")  # beyond NUMERIC(12,2)
RAW_TABLES = tuple(raw_layer.RAW_DDL)
QUARANTINE = "tiktok_ads_dbt.dra_quarantine"


@pytest.fixture
def loaded(db_connection, dbt_runner):
    ids = harness.register_sources(db_connection)
    harness.load_dataset(db_connection, ids)
    dbt_runner.build()
    return ids


def _build_for(dbt_runner, data_source_id: int | None, *, check: bool = True):
    """`dbt build` as the pipeline run of one data source runs it (its id in the env)."""
    runner = harness.DbtRunner({}, dbt_runner.work_dir)
    runner.env = dict(dbt_runner.env)
    runner.env.pop("TAP_TIKTOK_ADS_DATA_SOURCE_ID", None)
    if data_source_id is not None:
        runner.env["TAP_TIKTOK_ADS_DATA_SOURCE_ID"] = str(data_source_id)
    return runner.build(check=check)


def _campaign_day(conn, data_source_id, day, *, campaign_name, spend, batched_at=LATER_SYNC):
    advertiser = dataset.QUIET if data_source_id % 3 == 0 else dataset.SHARED
    campaign_id = advertiser.campaigns[0]
    raw_layer.load_rows(
        conn,
        "campaign_performance",
        [
            {
                "data_source_id": data_source_id,
                "advertiser_id": advertiser.advertiser_id,
                "campaign_id": campaign_id,
                "stat_date": day,
                "campaign_name": campaign_name,
                "spend": spend,
                "impressions": 1000,
                "clicks": 10,
            }
        ],
        batched_at=batched_at,
    )
    return campaign_id


def _spend(conn, data_source_id, day, campaign_id):
    row = conn.execute(
        "SELECT spend FROM dra_tiktok_ads.campaign_performance"
        " WHERE data_source_id = %s AND stat_date = %s AND campaign_id = %s",
        (data_source_id, day, campaign_id),
    ).fetchone()
    return row[0] if row else None


def test_a_bad_row_of_one_data_source_never_blocks_another(db_connection, dbt_runner, loaded):
    conn = db_connection
    good, bad = loaded["tenant_b"], loaded["quiet"]
    assert bad == 3  # the data source 3
    bad_campaign = dataset.QUIET.campaigns[0]
    before_bad = {day: _spend(conn, bad, day, bad_campaign) for day in (DAY, OTHER_DAY)}

    # The next sync of data source 3 brings a 600-character campaign name and a spend beyond
    # NUMERIC(12,2) on one day, a clean revision of another day, and an ad group row without
    # a campaign id (no report or entity names it: a NULL key of ad_group_performance).
    _campaign_day(conn, bad, DAY, campaign_name=LONG_NAME, spend=HUGE_SPEND)
    _campaign_day(conn, bad, OTHER_DAY, campaign_name="fine", spend=Decimal("1.00"))
    raw_layer.load_rows(
        conn,
        "ad_group_performance",
        [
            {
                "data_source_id": bad,
                "advertiser_id": dataset.QUIET.advertiser_id,
                "adgroup_id": "orphan-ad-group",
                "stat_date": DAY,
                "spend": Decimal("2.00"),
            }
        ],
        batched_at=LATER_SYNC,
    )
    # Data source 2's next sync: clean, revised numbers.
    good_campaign = _campaign_day(conn, good, DAY, campaign_name="ok", spend=Decimal("777.77"))

    # Data source 2's pipeline builds after both loads: it succeeds, its marts are current.
    result = _build_for(dbt_runner, good)
    assert _spend(conn, good, DAY, good_campaign) == Decimal("777.77")
    assert "Quarantined data source 3 in dra_tiktok_ads.campaign_performance" in result.stdout
    # Data source 3's tables are not half-updated: its clean row of the same batch waits too.
    assert {day: _spend(conn, bad, day, bad_campaign) for day in (DAY, OTHER_DAY)} == before_bad
    held = conn.execute(
        f"SELECT data_source_id, table_name, row_key, column_name, value, reason, rows_affected"
        f" FROM {QUARANTINE} ORDER BY table_name, column_name"
    ).fetchall()
    assert held == [
        (
            bad,
            "dra_tiktok_ads.ad_group_performance",
            f"stat_date={DAY}, ad_group_id=orphan-ad-group",
            "campaign_id",
            None,
            "is NULL (column is NOT NULL)",
            1,
        ),
        (
            bad,
            "dra_tiktok_ads.campaign_performance",
            f"stat_date={DAY}, campaign_id={bad_campaign}",
            "campaign_name",
            LONG_NAME,
            "does not fit VARCHAR(512)",
            1,
        ),
        (
            bad,
            "dra_tiktok_ads.campaign_performance",
            f"stat_date={DAY}, campaign_id={bad_campaign}",
            "spend",
            "99999999999.99",
            "does not fit NUMERIC(12,2)",
            1,
        ),
    ]

    # Data source 3's own build fails, naming what is wrong; so does a plain build.
    own = _build_for(dbt_runner, bad, check=False)
    assert own.returncode != 0
    assert "assert_no_quarantined_rows" in own.stdout
    assert "spend does not fit NUMERIC(12,2)" in own.stdout
    assert _build_for(dbt_runner, None, check=False).returncode != 0

    # TikTok sends the corrected values on a later sync: everything held back loads.
    fixed_at = LATER_SYNC + dt.timedelta(hours=1)
    _campaign_day(conn, bad, DAY, campaign_name="short", spend=Decimal("3.00"), batched_at=fixed_at)
    conn.execute(
        "UPDATE tiktok_ads.ad_group_performance SET campaign_id = %s, _sdc_batched_at = %s"
        " WHERE data_source_id = %s AND adgroup_id = 'orphan-ad-group'",
        (bad_campaign, fixed_at, bad),
    )
    _build_for(dbt_runner, bad)
    assert _spend(conn, bad, DAY, bad_campaign) == Decimal("3.00")
    assert _spend(conn, bad, OTHER_DAY, bad_campaign) == Decimal("1.00")
    assert conn.execute(f"SELECT count(*) FROM {QUARANTINE}").fetchone() == (0,)


def _raw_counts(conn, data_source_id):
    return {
        table: conn.execute(
            f"SELECT count(*) FROM tiktok_ads.{table} WHERE data_source_id = %s",
            (data_source_id,),
        ).fetchone()[0]
        for table in RAW_TABLES
    }


def test_deleting_a_data_source_removes_its_raw_rows_at_the_next_build(
    db_connection, dbt_runner, loaded
):
    conn = db_connection
    gone, kept = loaded["tenant_b"], loaded["mixed"]
    kept_before = _raw_counts(conn, kept)
    assert all(_raw_counts(conn, gone).values())
    conn.execute("DELETE FROM dra_data_sources WHERE id = %s", (gone,))

    dbt_runner.build()
    assert set(_raw_counts(conn, gone).values()) == {0}
    assert _raw_counts(conn, kept) == kept_before

    # A run of it still in flight loads rows after that build; the next one removes them
    # too. Rows of an id the registry never handed out wait (unloaded) until it is registered.
    _campaign_day(conn, gone, DAY, campaign_name="late", spend=Decimal("5.00"))
    never_registered = 999
    _campaign_day(conn, never_registered, DAY, campaign_name="early", spend=Decimal("6.00"))
    dbt_runner.build()
    assert set(_raw_counts(conn, gone).values()) == {0}
    assert _raw_counts(conn, never_registered)["campaign_performance"] == 1
    loaded_ids = conn.execute(
        "SELECT DISTINCT data_source_id FROM dra_tiktok_ads.campaign_performance"
    ).fetchall()
    assert sorted(row[0] for row in loaded_ids) == sorted([kept, loaded["quiet"]])
