"""The tap's streams, declared once: the stream list every other part of the project reads.

Each stream states only what differs (name, path, keys, fields, data level): entities in
``entities``, daily reports in ``reports``.
"""

from __future__ import annotations

from tap_tiktok_ads.client import TikTokStream
from tap_tiktok_ads.streams.defined_reports import AUDIENCE_STREAM_TYPES
from tap_tiktok_ads.streams.entities import (
    AdGroupsStream,
    AdsStream,
    AdvertiserInfoStream,
    CampaignsStream,
)
from tap_tiktok_ads.streams.reports import (
    AdGroupPerformanceStream,
    AdPerformanceStream,
    AdvertiserPerformanceStream,
    CampaignPerformanceStream,
)

STREAM_TYPES: list[type[TikTokStream]] = [
    AdvertiserInfoStream,
    CampaignsStream,
    AdGroupsStream,
    CampaignPerformanceStream,
    AdGroupPerformanceStream,
    # Not selected by default: the platform's transform does not read them.
    AdsStream,
    AdPerformanceStream,
    AdvertiserPerformanceStream,
    *AUDIENCE_STREAM_TYPES,
]
#: The daily BASIC streams whose hourly and lifetime variants settings can add.
VARIANT_BASES = [CampaignPerformanceStream, AdGroupPerformanceStream]


def reserved_stream_names() -> tuple[str, ...]:
    """Names a custom report cannot take: every stream the tap can have."""
    variants = [f"{b.name}_{kind}" for b in VARIANT_BASES for kind in ("hourly", "lifetime")]
    return (*(stream.name for stream in STREAM_TYPES), *variants)


def default_stream_names() -> tuple[str, ...]:
    """The streams a run syncs when its catalog selects nothing else (the platform's set)."""
    return tuple(stream.name for stream in STREAM_TYPES if stream.selected_by_default)


__all__ = [
    "STREAM_TYPES",
    "AdGroupPerformanceStream",
    "AdGroupsStream",
    "AdPerformanceStream",
    "AdsStream",
    "AdvertiserInfoStream",
    "AdvertiserPerformanceStream",
    "CampaignPerformanceStream",
    "CampaignsStream",
    "default_stream_names",
    "reserved_stream_names",
]
