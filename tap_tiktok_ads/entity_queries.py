"""The filtered passes that together list every campaign or ad group, as each endpoint documents.

``campaign/get`` and ``adgroup/get`` leave out, unless asked:

- TopView objects: ``buying_types`` defaults to ``["AUCTION", "RESERVATION_RF"]``, and
  ``RESERVATION_TOP_VIEW`` "cannot be combined with other values", so TopView is its own pass
  (``adgroup/get`` allows at most 100 rows a page for it; the tap uses 100 on both endpoints);
- Promote objects: ``campaign_system_origins`` defaults to ``["TT_ADS_PLATFORM"]``; both origins
  are asked for in every pass;
- deleted objects, which still carry spend in reports. ``adgroup/get`` documents
  ``primary_status: STATUS_ALL``; ``campaign/get`` documents only ``STATUS_DELETE`` (deleted
  objects alone), so campaigns take a second pass for the deleted ones.

``ad/get`` documents neither ``buying_types`` nor ``campaign_system_origins`` (nor a
modification-time filter): one pass, deleted ads included with ``primary_status: STATUS_ALL``.

Sources (TikTok API for Business v1.3): Get campaigns, doc 1739315828649986; Get ad groups, doc
1739314558673922; Get ads, doc 1735735588640770 (FilteringAdGet in TikTok's SDK); Promote
campaigns, doc 1785880454546433.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

REGULAR_BUYING_TYPES = ("AUCTION", "RESERVATION_RF")
TOP_VIEW_BUYING_TYPES = ("RESERVATION_TOP_VIEW",)
ALL_SYSTEM_ORIGINS = ("TT_ADS_PLATFORM", "PROMOTE")
#: ``adgroup/get`` caps the page size of a TopView query at 100.
TOP_VIEW_MAX_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class EntityPass:
    """One filtered listing: its name (for logs and the request context) and filter."""

    name: str
    filtering: dict[str, Any]
    max_page_size: int

    def page_size(self, configured: int) -> int:
        return min(configured, self.max_page_size)


def _passes(deleted_filters: list[tuple[str, dict[str, Any]]]) -> list[EntityPass]:
    result = []
    for buying_name, buying_types, max_page in (
        ("regular", REGULAR_BUYING_TYPES, MAX_PAGE_SIZE),
        ("topview", TOP_VIEW_BUYING_TYPES, TOP_VIEW_MAX_PAGE_SIZE),
    ):
        for status_name, status_filter in deleted_filters:
            filtering = {
                "buying_types": list(buying_types),
                "campaign_system_origins": list(ALL_SYSTEM_ORIGINS),
                **status_filter,
            }
            result.append(EntityPass(f"{buying_name}{status_name}", filtering, max_page))
    return result


def campaign_passes(*, include_deleted: bool) -> list[EntityPass]:
    """``campaign/get``: regular and TopView, each not deleted and (optionally) deleted."""
    deleted: list[tuple[str, dict[str, Any]]] = [("", {})]
    if include_deleted:
        deleted.append(("_deleted", {"primary_status": "STATUS_DELETE"}))
    return _passes(deleted)


def adgroup_passes(*, include_deleted: bool) -> list[EntityPass]:
    """``adgroup/get``: regular and TopView, deleted included with ``STATUS_ALL``."""
    return _passes([("", {"primary_status": "STATUS_ALL"} if include_deleted else {})])


def ad_passes(*, include_deleted: bool) -> list[EntityPass]:
    """``ad/get``: one listing, deleted included with ``STATUS_ALL``."""
    filtering = {"primary_status": "STATUS_ALL"} if include_deleted else {}
    return [EntityPass("all" if include_deleted else "", filtering, MAX_PAGE_SIZE)]
