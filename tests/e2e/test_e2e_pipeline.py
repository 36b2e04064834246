"""The real pipeline, `meltano run tap-tiktok-ads target-postgres dbt-postgres:build`, end to end.

PostgreSQL is real (a private cluster), the TikTok API is the simulator over HTTP, and every
setting comes from environment variables, as on a user's machine or the platform's scheduler.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.e2e.harness import END_DATE, LOOKBACK_DAYS, RAW_KEYS, START_DATE, Pipeline
from tiktok_sim.dataset import LEVEL_ADGROUP, LEVEL_CAMPAIGN

pytestmark = pytest.mark.e2e

PIPELINE = ("tap-tiktok-ads", "target-postgres", "dbt-postgres:build")


def expected_raw_counts(pipeline: Pipeline, advertiser_id: str) -> dict[str, int]:
    dataset = pipeline.simulator.dataset
    return {
        "advertiser_info": 1,
        "campaigns": len(dataset.list_campaigns(advertiser_id, include_deleted=True)),
        "ad_groups": len(dataset.list_adgroups(advertiser_id, include_deleted=True)),
        "campaign_performance": dataset.report_row_count(
            LEVEL_CAMPAIGN, advertiser_id, START_DATE, END_DATE
        ),
        "ad_group_performance": dataset.report_row_count(
            LEVEL_ADGROUP, advertiser_id, START_DATE, END_DATE
        ),
    }


def primary_keys(pipeline: Pipeline) -> dict[str, list[str]]:
    with pipeline.connect() as conn:
        rows = conn.execute(
            "SELECT c.conrelid::regclass::text, a.attname"
            " FROM pg_constraint c"
            " CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, position)"
            " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum"
            " WHERE c.contype = 'p' AND c.connamespace = 'tiktok_ads'::regnamespace"
            " ORDER BY 1, k.position"
        ).fetchall()
    keys: dict[str, list[str]] = {}
    for table, column in rows:
        keys.setdefault(table.removeprefix("tiktok_ads."), []).append(column)
    return keys


def duplicate_keys(pipeline: Pipeline) -> dict[str, int]:
    """Key values present more than once, per raw table (must all be 0)."""
    duplicates = {}
    with pipeline.connect() as conn:
        for table, key in RAW_KEYS.items():
            columns = ", ".join(key)
            row = conn.execute(
                f"SELECT count(*) FROM (SELECT {columns} FROM tiktok_ads.{table}"
                f" GROUP BY {columns} HAVING count(*) > 1) d"
            ).fetchone()
            duplicates[table] = int(row[0]) if row else -1
    return duplicates


def unnamed_mart_rows(pipeline: Pipeline, data_source_id: int) -> dict[str, int]:
    """Mart rows without a name or (campaigns) a status: never silently blank (issue 14)."""
    with pipeline.connect() as conn:
        campaigns = conn.execute(
            "SELECT count(*) FROM dra_tiktok_ads.campaign_performance WHERE data_source_id = %s"
            " AND (coalesce(campaign_name, '') = '' OR coalesce(status, '') = '')",
            (data_source_id,),
        ).fetchone()
        ad_groups = conn.execute(
            "SELECT count(*) FROM dra_tiktok_ads.ad_group_performance WHERE data_source_id = %s"
            " AND coalesce(ad_group_name, '') = ''",
            (data_source_id,),
        ).fetchone()
    return {
        "campaigns": int(campaigns[0]) if campaigns else -1,
        "ad_groups": int(ad_groups[0]) if ad_groups else -1,
    }


def batched_at_by_day(pipeline: Pipeline, data_source_id: int) -> dict[date, str]:
    with pipeline.connect() as conn:
        rows = conn.execute(
            "SELECT stat_date, max(_sdc_batched_at)::text FROM tiktok_ads.campaign_performance"
            " WHERE data_source_id = %s GROUP BY 1",
            (data_source_id,),
        ).fetchall()
    return dict(rows)


def test_meltano_run_loads_every_stream_reruns_idempotently_and_keeps_state(
    pipeline: Pipeline,
) -> None:
    advertiser_id = pipeline.simulator.dataset.advertiser_ids[0]
    data_source_id = pipeline.register(advertiser_id)
    expected = expected_raw_counts(pipeline, advertiser_id)
    assert all(count > 0 for count in expected.values()), expected

    # First run: the user-facing command, every setting from the environment.
    pipeline.run(*PIPELINE, data_source_id=data_source_id, advertiser_id=advertiser_id)

    assert pipeline.counts("tiktok_ads", data_source_id) == expected
    # target-postgres declares the key columns in table order; the set is what makes rows unique.
    assert {t: sorted(k) for t, k in primary_keys(pipeline).items()} == {
        t: sorted(k) for t, k in RAW_KEYS.items()
    }
    with pipeline.connect() as conn:
        stamped = conn.execute(
            "SELECT count(*) FROM tiktok_ads.campaign_performance WHERE data_source_id <> %s",
            (data_source_id,),
        ).fetchone()
    assert stamped == (0,)
    marts = pipeline.counts("dra_tiktok_ads", data_source_id)
    assert marts["campaign_performance"] == expected["campaign_performance"]
    assert marts["ad_group_performance"] == expected["ad_group_performance"]
    assert marts["advertiser_info"] == 1
    assert unnamed_mart_rows(pipeline, data_source_id) == {"campaigns": 0, "ad_groups": 0}
    # TopView and Promote campaigns (TikTok hides them unless asked) reach the marts named.
    special = {
        c.campaign_id: c.campaign_name
        for c in pipeline.simulator.dataset.list_campaigns(advertiser_id, include_deleted=True)
        if c.special
    }
    assert len(special) == 2
    with pipeline.connect() as conn:
        named = dict(
            conn.execute(
                "SELECT DISTINCT campaign_id, campaign_name"
                " FROM dra_tiktok_ads.campaign_performance"
                " WHERE data_source_id = %s AND campaign_id = ANY(%s)",
                (data_source_id, list(special)),
            ).fetchall()
        )
    assert named == special

    # State survives between runs, per data source.
    state = pipeline.state(data_source_id)
    bookmarks = state["singer_state"]["bookmarks"]
    assert {"campaign_performance", "ad_group_performance"} <= set(bookmarks)
    first_batches = batched_at_by_day(pipeline, data_source_id)
    reports_before = pipeline.simulator.stats.count("/report/integrated/get/")

    # Second run, through the named job, with no new data: nothing changes, nothing doubles,
    # and only the lookback window is read again.
    pipeline.run("tiktok-ads", data_source_id=data_source_id, advertiser_id=advertiser_id)

    assert pipeline.counts("tiktok_ads", data_source_id) == expected
    assert duplicate_keys(pipeline) == dict.fromkeys(RAW_KEYS, 0)
    assert pipeline.counts("dra_tiktok_ads", data_source_id) == marts
    report_requests = pipeline.simulator.stats.requests("/report/integrated/get/")[reports_before:]
    assert report_requests, "the second run requested no reports"
    earliest_reread = min(date.fromisoformat(r.params["start_date"]) for r in report_requests)
    assert earliest_reread >= END_DATE - timedelta(days=LOOKBACK_DAYS)
    second_batches = batched_at_by_day(pipeline, data_source_id)
    untouched = [day for day in first_batches if day < earliest_reread]
    assert untouched, "every day was re-read: the bookmark was not used"
    assert all(second_batches[day] == first_batches[day] for day in untouched)
    assert pipeline.state(data_source_id)["singer_state"]["bookmarks"].keys() == bookmarks.keys()
