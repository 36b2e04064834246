"""The fewest requests the TikTok API allows for a sync, computed from the size alone.

Per advertiser and report stream: daily reports may span at most 30 days, and a page holds at
most 1,000 rows, so each 30-day window costs ``ceil(rows_in_window / 1000)`` requests, and an
empty window still costs one (the API must be asked to learn it is empty). One report query
covers every buying type and system origin (TopView and Promote included), so reports cost no
more than before issue 14.

Entity streams list objects in the passes each endpoint documents (``tap_tiktok_ads.
entity_queries``), each pass costing ``ceil(objects / page size)`` pages and at least one:
``campaign/get`` four per advertiser (AUCTION/RESERVATION_RF and, alone, RESERVATION_TOP_VIEW,
each once for live and once for deleted campaigns: the endpoint documents only
``STATUS_DELETE``), ``adgroup/get`` two (the same buying types, ``STATUS_ALL``); TopView passes
page by 100. Since issue 14 the minimum therefore includes 3 more ``campaign/get`` and 1 more
``adgroup/get`` request per advertiser than a single unfiltered listing: TikTok returns
TopView only when asked for it alone, and deleted campaigns only when asked for them alone.
``advertiser/info`` costs one call per 100 advertisers, and discovery one call when
``advertiser_ids`` is empty (the benchmarks pass the ids, so it is 0).

:func:`dataset_minimum` recomputes the same numbers from the simulator's own dataset (row
counts per window, object lists), as an independent check of the arithmetic.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

from benchmarks.sizes import PAGE_SIZE, PROMOTE_CAMPAIGNS, SEED, TOPVIEW_CAMPAIGNS, Size
from tap_tiktok_ads.entity_queries import TOP_VIEW_MAX_PAGE_SIZE
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


def pages(rows: int, page_size: int = PAGE_SIZE) -> int:
    return max(1, math.ceil(rows / page_size))


def deleted_regular_campaigns(campaigns: int) -> int:
    """The simulator deletes regular campaign c when c % 10 == 3 (never a TopView/Promote one)."""
    return len([c for c in range(campaigns) if c % 10 == 3])


def minimum_requests(
    size: Size, start: date, end: date, last_day: date, *, discovery: bool = False
) -> dict[str, int]:
    """Requests per stream for a sync of ``start..end`` (data ends at ``last_day``)."""

    def report(objects: int) -> int:
        return sum(
            pages(objects * _days_with_data(s, e, size.first_day, last_day))
            for s, e in windows(start, end)
        )

    deleted = deleted_regular_campaigns(size.campaigns)
    campaign_passes = (
        pages(size.campaigns - deleted + PROMOTE_CAMPAIGNS)  # AUCTION/RF, Promote, live
        + pages(deleted)  # the same, deleted
        + pages(TOPVIEW_CAMPAIGNS, TOP_VIEW_MAX_PAGE_SIZE)  # TopView, live
        + pages(0, TOP_VIEW_MAX_PAGE_SIZE)  # TopView, deleted (none)
    )
    adgroup_passes = pages(size.adgroups + PROMOTE_CAMPAIGNS) + pages(
        TOPVIEW_CAMPAIGNS, TOP_VIEW_MAX_PAGE_SIZE
    )
    result = {
        "advertiser_info": math.ceil(size.advertisers / INFO_BATCH),
        "campaigns": size.advertisers * campaign_passes,
        "ad_groups": size.advertisers * adgroup_passes,
        "campaign_performance": size.advertisers * report(size.all_campaigns),
        "ad_group_performance": size.advertisers * report(size.all_adgroups),
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
        # One pass per (TopView or not) x (deleted or not) for campaigns; ad groups take
        # STATUS_ALL, so one pass per (TopView or not).
        campaigns = dataset.list_campaigns(advertiser_id, True)
        for top_view in (False, True):
            size_limit = TOP_VIEW_MAX_PAGE_SIZE if top_view else PAGE_SIZE
            for deleted in (False, True):
                listed = [
                    c
                    for c in campaigns
                    if (c.buying_type == "RESERVATION_TOP_VIEW") == top_view
                    and c.deleted == deleted
                ]
                result["campaigns"] += pages(len(listed), size_limit)
            listed_groups = [
                g
                for g in dataset.list_adgroups(advertiser_id, True)
                if (g.buying_type == "RESERVATION_TOP_VIEW") == top_view
            ]
            result["ad_groups"] += pages(len(listed_groups), size_limit)
        for stream, level in (
            ("campaign_performance", LEVEL_CAMPAIGN),
            ("ad_group_performance", LEVEL_ADGROUP),
        ):
            result[stream] += sum(
                pages(dataset.report_row_count(level, advertiser_id, s, e))
                for s, e in windows(start, end)
            )
    return result
