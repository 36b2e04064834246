"""Two data sources reading the same advertiser stay apart, in raw tables, marts and state."""

from __future__ import annotations

import pytest

from tests.e2e.harness import Pipeline

pytestmark = pytest.mark.e2e


def fingerprint(pipeline: Pipeline, data_source_id: int) -> list[tuple[object, ...]]:
    """Every raw row of a data source, with its load time: any change shows."""
    with pipeline.connect() as conn:
        return conn.execute(
            "SELECT 'campaign_performance', campaign_id, stat_date::text, spend::text,"
            " _sdc_batched_at::text FROM tiktok_ads.campaign_performance"
            " WHERE data_source_id = %(id)s"
            " UNION ALL SELECT 'campaigns', campaign_id, '', '', _sdc_batched_at::text"
            " FROM tiktok_ads.campaigns WHERE data_source_id = %(id)s"
            " ORDER BY 1, 2, 3",
            {"id": data_source_id},
        ).fetchall()


def test_two_data_sources_with_the_same_advertiser_stay_apart(pipeline: Pipeline) -> None:
    advertiser_id = pipeline.simulator.dataset.advertiser_ids[1]
    # Two platform projects connected the same TikTok advertiser.
    first = pipeline.register(advertiser_id, project_id=1)
    second = pipeline.register(advertiser_id, project_id=2)
    assert first != second

    pipeline.run(
        "tap-tiktok-ads", "target-postgres", data_source_id=first, advertiser_id=advertiser_id
    )
    first_rows = fingerprint(pipeline, first)
    first_counts = pipeline.counts("tiktok_ads", first)
    assert first_rows
    assert pipeline.counts("tiktok_ads", second) == dict.fromkeys(first_counts, 0)

    pipeline.run("tiktok-ads", data_source_id=second, advertiser_id=advertiser_id)

    # The second data source got its own full copy; the first one's rows were not touched.
    assert pipeline.counts("tiktok_ads", second) == first_counts
    assert fingerprint(pipeline, first) == first_rows
    marts_first = pipeline.counts("dra_tiktok_ads", first)
    marts_second = pipeline.counts("dra_tiktok_ads", second)
    assert marts_first == marts_second
    assert marts_first["campaign_performance"] == first_counts["campaign_performance"]
    # Separate bookmarks per data source.
    assert pipeline.state(first)["singer_state"]["bookmarks"]
    assert pipeline.state(second)["singer_state"]["bookmarks"]
