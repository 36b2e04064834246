"""Report queries, and splitting the ones TikTok will not answer in full.

Two limits of the synchronous report endpoint (doc 1740302848100353, FAQ 1738864850353154):

- **40067 "query too large"**: the query (days x metrics x objects) is too big. A shorter date
  window is smaller, so the window is halved, down to one day; a single day still too large
  stops the sync with one line naming the advertiser, level and day.
- **Truncation**: a report covers at most 20,000 ads (the newest); beyond that TikTok returns
  fewer rows and says so only in the ``X-Tt-Ads-Throttle`` response header. Fewer days do not
  help (the cap counts the account's ads, not rows); TikTok's advice is narrower filters, so
  the query is split by ``campaign_ids`` (at most 100 a query, as documented), halving a group
  down to one campaign.

Every query of a window is planned (first page fetched, split where needed) before its rows
are read, so no row of a truncated result is ever emitted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

from singer_sdk.exceptions import FatalAPIError

from tap_tiktok_ads.entity_queries import ALL_SYSTEM_ORIGINS, REGULAR_BUYING_TYPES
from tap_tiktok_ads.envelope import QueryTooLargeError
from tap_tiktok_ads.pagination import RawPage
from tap_tiktok_ads.values import LOGGER
from tap_tiktok_ads.windows import DateWindow

#: ``campaign_ids`` / ``adgroup_ids`` / ``ad_ids`` report filters take at most 100 ids.
MAX_FILTER_IDS = 100
#: Reports leave out TopView unless ``buying_type`` names it (doc 1740302848100353,
#: ``service_type``) and Promote unless ``campaign_system_origins`` does (doc 1785880454546433).
REPORT_BUYING_TYPES = (*REGULAR_BUYING_TYPES, "RESERVATION_TOP_VIEW")


@dataclass(frozen=True)
class ReportQuery:
    """One report query: a date window, optionally narrowed to some campaigns."""

    window: DateWindow
    campaign_ids: tuple[str, ...] | None = None

    def describe(self) -> str:
        dates = f"{self.window.start}..{self.window.end}"
        if self.campaign_ids is None:
            return dates
        return f"{dates} for {len(self.campaign_ids)} campaign(s)"

    def window_halves(self) -> tuple[ReportQuery, ReportQuery] | None:
        days = (self.window.end - self.window.start).days + 1
        if days < 2:
            return None
        first_end = self.window.start + timedelta(days=days // 2 - 1)
        return (
            replace(self, window=DateWindow(self.window.start, first_end)),
            replace(self, window=DateWindow(first_end + timedelta(days=1), self.window.end)),
        )

    def id_groups(self, all_campaign_ids: Sequence[str]) -> list[ReportQuery]:
        """Narrower queries covering the same campaigns: groups of 100, or this group halved."""
        if self.campaign_ids is None:
            ids = list(all_campaign_ids)
            size = MAX_FILTER_IDS
        else:
            ids = list(self.campaign_ids)
            size = (len(ids) + 1) // 2
        return [
            replace(self, campaign_ids=tuple(ids[i : i + size])) for i in range(0, len(ids), size)
        ]


def report_filtering(
    status_field: str, *, include_deleted: bool, campaign_ids: tuple[str, ...] | None
) -> list[dict[str, str]]:
    """Every buying type and system origin, deleted objects on request, maybe some campaigns."""
    filters = [
        _in("buying_type", REPORT_BUYING_TYPES),
        _in("campaign_system_origins", ALL_SYSTEM_ORIGINS),
    ]
    if include_deleted:
        filters.insert(0, _in(status_field, ("STATUS_ALL",)))
    if campaign_ids is not None:
        filters.append(_in("campaign_ids", campaign_ids))
    return filters


def _in(field_name: str, values: Sequence[str]) -> dict[str, str]:
    quoted = ",".join(f'"{value}"' for value in values)
    return {"field_name": field_name, "filter_type": "IN", "filter_value": f"[{quoted}]"}


@dataclass(frozen=True)
class QueryPlanner:
    """Plans a window: the queries that answer it in full, each with its first page."""

    advertiser_id: str
    level: str
    fetch_first_page: Callable[[ReportQuery], RawPage]
    campaign_ids: Callable[[], list[str]]

    def plan(self, window: DateWindow) -> list[tuple[ReportQuery, RawPage]]:
        return self._resolve(ReportQuery(window))

    def _resolve(self, query: ReportQuery) -> list[tuple[ReportQuery, RawPage]]:
        try:
            page = self.fetch_first_page(query)
        except QueryTooLargeError as error:
            return self._split_too_large(query, error)
        if page.throttle:
            return self._split_truncated(query, page.throttle)
        return [(query, page)]

    def _split_too_large(
        self, query: ReportQuery, error: QueryTooLargeError
    ) -> list[tuple[ReportQuery, RawPage]]:
        halves = query.window_halves()
        if halves is None:
            msg = (
                f"{self.level} report for advertiser {self.advertiser_id} on "
                f"{query.window.start} is too large for TikTok even for one day ({error}). "
                "Deselect some metrics with stream maps or ask TikTok support to raise the limit"
            )
            raise FatalAPIError(msg) from None
        LOGGER.warning(
            "%s report for advertiser %s, %s: TikTok says the query is too large (40067); "
            "split into %s and %s",
            self.level,
            self.advertiser_id,
            query.describe(),
            halves[0].describe(),
            halves[1].describe(),
        )
        return [planned for half in halves for planned in self._resolve(half)]

    def _split_truncated(
        self, query: ReportQuery, warning: str
    ) -> list[tuple[ReportQuery, RawPage]]:
        if query.campaign_ids is not None and len(query.campaign_ids) == 1:
            msg = (
                f"{self.level} report for advertiser {self.advertiser_id}, {query.describe()} "
                f"(campaign {query.campaign_ids[0]}) is still truncated by TikTok "
                f"(X-Tt-Ads-Throttle: {warning}); the tap cannot split one campaign further. "
                "Please report it"
            )
            raise FatalAPIError(msg)
        groups = query.id_groups(self.campaign_ids() if query.campaign_ids is None else ())
        if not groups:
            msg = (
                f"{self.level} report for advertiser {self.advertiser_id}, {query.describe()} "
                f"is truncated by TikTok (X-Tt-Ads-Throttle: {warning}) and campaign/get lists "
                "no campaigns to split it by. Please report it"
            )
            raise FatalAPIError(msg)
        LOGGER.warning(
            "%s report for advertiser %s, %s: TikTok truncated the result (X-Tt-Ads-Throttle: "
            "%s); split by campaign_ids into %d queries of up to %d campaigns",
            self.level,
            self.advertiser_id,
            query.describe(),
            warning,
            len(groups),
            max(len(group.campaign_ids or ()) for group in groups),
        )
        return [planned for group in groups for planned in self._resolve(group)]
