"""The fewest requests the TikTok API allows for a sync, computed from the size alone.

Per advertiser and report stream: daily reports may span at most 30 days, and a page holds at
most 1,000 rows, so each 30-day window costs ``ceil(rows_in_window / 1000)`` requests, and an
empty window still costs one (the API must be asked to learn it is empty). Entity streams cost
``ceil(objects / 1000)`` pages per advertiser (deleted objects included: ``include_deleted`` is
on by default), ``advertiser/info`` one call per 100 advertisers, and discovery one call when
``advertiser_ids`` is empty (the benchmarks pass the ids, so it is 0).

:func:`dataset_minimum` recomputes the same numbers from the simulator's own dataset (row
counts per window, object lists), as an independent check of the arithmetic.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

from benchmarks.sizes import PAGE_SIZE, SEED, SPECIAL_CAMPAIGNS, Size
from tap_tiktok_ads.streams import default_stream_names

MAX_WINDOW_DAYS = 30
INFO_BATCH = 100
#: The streams a default run syncs: the ones whose minimum is computed here.
STREAMS = default_stream_names()


def windows(start: date, end: date) -> list[tuple[date, date]]:
    result = []
    while start <= end:
        window_end = min(start + timedelta(days=MAX_WINDOW_DAYS - 1), end)
        result.append((start, window_end))
        start = window_end + timedelta(days=1)
    return result


def _days_with_data(start: date, end: date, first_day: date, last_day: date) -> int:
    return max(0, (min(end, last_day) - max(start, first_day)).days + 1)


def pages(rows: int) -> int:
    return max(1, math.ceil(rows / PAGE_SIZE))


def minimum_requests(
    size: Size, start: date, end: date, last_day: date, *, discovery: bool = False
) -> dict[str, int]:
    """Requests per stream for a sync of ``start..end`` (data ends at ``last_day``)."""

    def report(objects: int) -> int:
        return sum(
            pages(objects * _days_with_data(s, e, size.first_day, last_day))
            for s, e in windows(start, end)
        )

    # Every advertiser also has its TopView and Promote campaigns, one ad group each.
    campaigns = size.campaigns + SPECIAL_CAMPAIGNS
    adgroups = size.adgroups + SPECIAL_CAMPAIGNS
    result = {
        "advertiser_info": math.ceil(size.advertisers / INFO_BATCH),
        "campaigns": size.advertisers * pages(campaigns),
        "ad_groups": size.advertisers * pages(adgroups),
        "campaign_performance": size.advertisers * report(campaigns),
        "ad_group_performance": size.advertisers * report(adgroups),
    }
    if discovery:
        result["discovery"] = 1
    return result


def incremental_start(start_date: date, bookmark: date, lookback_days: int) -> date:
    return max(start_date, bookmark - timedelta(days=lookback_days))


def dataset_minimum(size: Size, start: date, end: date, last_day: date) -> dict[str, int]:
    """The same minimum from the simulator's dataset (object lists, rows per window)."""
    from tiktok_sim import SimConfig
    from tiktok_sim.dataset import LEVEL_ADGROUP, LEVEL_CAMPAIGN, Dataset

    days = (last_day - size.first_day).days + 1
    dataset = Dataset(
        SimConfig(
            seed=SEED,
            advertisers=size.advertisers,
            campaigns=size.campaigns,
            adgroups=size.adgroups,
            days=days,
            end_date=last_day,
        )
    )
    result = dict.fromkeys(STREAMS, 0)
    result["advertiser_info"] = math.ceil(len(dataset.advertiser_ids) / INFO_BATCH)
    for advertiser_id in dataset.advertiser_ids:
        result["campaigns"] += pages(len(dataset.list_campaigns(advertiser_id, True)))
        result["ad_groups"] += pages(len(dataset.list_adgroups(advertiser_id, True)))
        for stream, level in (
            ("campaign_performance", LEVEL_CAMPAIGN),
            ("ad_group_performance", LEVEL_ADGROUP),
        ):
            result[stream] += sum(
                pages(dataset.report_row_count(level, advertiser_id, s, e))
                for s, e in windows(start, end)
            )
    return result
