"""Report queries, and splitting the ones TikTok will not answer in full.

Two limits of the synchronous report endpoint (doc 1740302848100353, FAQ 1738864850353154):

- **40067 "query too large"**: the query (days x metrics x objects) is too big. A shorter date
  window is smaller, so the window is halved, down to one day; a single day still too large
  stops the sync with one line naming the advertiser, level and day.
- **Truncation**: a report covers at most 20,000 ads (the newest); beyond that TikTok returns
  fewer rows and says so only in the ``X-Tt-Ads-Throttle`` response header. Fewer days do not
  help (the cap counts the account's ads, not rows); TikTok's advice is narrower filters, so
  the query is split by ``campaign_ids`` (at most 100 a query, as documented), halving a group
  down to one campaign, and for ad group reports one campaign further by ``adgroup_ids``.

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
    """One report query: a date window, optionally narrowed to some campaigns or ad groups."""

    window: DateWindow
    campaign_ids: tuple[str, ...] | None = None
    adgroup_ids: tuple[str, ...] | None = None

    def describe(self) -> str:
        dates = f"{self.window.start}..{self.window.end}"
        if self.adgroup_ids is not None:
            return f"{dates} for {len(self.adgroup_ids)} ad group(s)"
        if self.campaign_ids is not None:
            return f"{dates} for {len(self.campaign_ids)} campaign(s)"
        return dates

    def window_halves(self) -> tuple[ReportQuery, ReportQuery] | None:
        days = (self.window.end - self.window.start).days + 1
        if days < 2:
            return None
        first_end = self.window.start + timedelta(days=days // 2 - 1)
        return (
            replace(self, window=DateWindow(self.window.start, first_end)),
            replace(self, window=DateWindow(first_end + timedelta(days=1), self.window.end)),
        )

    def filters(self) -> dict[str, tuple[str, ...]]:
        """The id filters of this query, by report filter field."""
        found = {"campaign_ids": self.campaign_ids, "adgroup_ids": self.adgroup_ids}
        return {name: ids for name, ids in found.items() if ids is not None}


def _groups(ids: Sequence[str], size: int) -> list[tuple[str, ...]]:
    return [tuple(ids[i : i + size]) for i in range(0, len(ids), size)]


def _halves(ids: Sequence[str]) -> list[tuple[str, ...]]:
    return _groups(ids, (len(ids) + 1) // 2)


def report_filtering(
    status_field: str | None, *, include_deleted: bool, query: ReportQuery
) -> list[dict[str, str]]:
    """Every buying type and system origin, deleted objects on request, the query's ids.

    ``status_field`` None: the level has no status filter (advertiser rows hold everything).
    """
    filters = [
        _in("buying_type", REPORT_BUYING_TYPES),
        _in("campaign_system_origins", ALL_SYSTEM_ORIGINS),
    ]
    if include_deleted and status_field is not None:
        filters.insert(0, _in(status_field, ("STATUS_ALL",)))
    filters.extend(_in(name, ids) for name, ids in query.filters().items())
    return filters


def _in(field_name: str, values: Sequence[str]) -> dict[str, str]:
    quoted = ",".join(f'"{value}"' for value in values)
    return {"field_name": field_name, "filter_type": "IN", "filter_value": f"[{quoted}]"}


@dataclass(frozen=True)
class QueryPlanner:
    """Plans a window: the queries that answer it in full, each with its first page.

    ``adgroup_ids_of`` (ad group reports only) lists a campaign's ad groups, to split one
    campaign further; a campaign report cannot be split below one campaign (its rows would
    have to be summed, and ratios cannot be).
    """

    advertiser_id: str
    level: str
    fetch_first_page: Callable[[ReportQuery], RawPage]
    campaign_ids: Callable[[], list[str]]
    adgroup_ids_of: Callable[[str], list[str]] | None = None
    #: False for advertiser rows: narrower queries would have to be summed into one row.
    splittable: bool = True

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

    def _where(self, query: ReportQuery) -> str:
        return f"{self.level} report for advertiser {self.advertiser_id}, {query.describe()}"

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
            "%s: TikTok says the query is too large (40067); split into %s and %s",
            self._where(query),
            halves[0].describe(),
            halves[1].describe(),
        )
        return [planned for half in halves for planned in self._resolve(half)]

    def _split_truncated(
        self, query: ReportQuery, warning: str
    ) -> list[tuple[ReportQuery, RawPage]]:
        narrower = self._narrower(query, warning)
        by = "adgroup_ids" if narrower[0].adgroup_ids is not None else "campaign_ids"
        largest = max(len(next(iter(q.filters().values()))) for q in narrower)
        LOGGER.warning(
            "%s: TikTok truncated the result (X-Tt-Ads-Throttle: %s); split by %s into %d "
            "queries of up to %d ids",
            self._where(query),
            warning,
            by,
            len(narrower),
            largest,
        )
        return [planned for part in narrower for planned in self._resolve(part)]

    def _narrower(self, query: ReportQuery, warning: str) -> list[ReportQuery]:
        """Queries covering the same objects, each with a smaller scope."""
        cannot = f"{self._where(query)} is truncated by TikTok (X-Tt-Ads-Throttle: {warning})"
        if not self.splittable:
            msg = (
                f"{cannot}; its rows cannot be split by campaign. Deselect this stream and sum "
                "campaign_performance instead"
            )
            raise FatalAPIError(msg)
        if query.adgroup_ids is not None:
            if len(query.adgroup_ids) == 1:
                msg = f"{cannot}; the tap cannot split one ad group further. Please report it"
                raise FatalAPIError(msg)
            return [replace(query, adgroup_ids=ids) for ids in _halves(query.adgroup_ids)]
        if query.campaign_ids is None:
            groups = _groups(self.campaign_ids(), MAX_FILTER_IDS)
            if not groups:
                msg = f"{cannot} and campaign/get lists no campaigns to split it by. Report it"
                raise FatalAPIError(msg)
            return [replace(query, campaign_ids=ids) for ids in groups]
        if len(query.campaign_ids) > 1:
            return [replace(query, campaign_ids=ids) for ids in _halves(query.campaign_ids)]
        (campaign_id,) = query.campaign_ids
        adgroups = self.adgroup_ids_of(campaign_id) if self.adgroup_ids_of else []
        if not adgroups:
            msg = (
                f"{cannot}; the tap cannot split one campaign ({campaign_id}) further. "
                "Please report it"
            )
            raise FatalAPIError(msg)
        return [
            replace(query, campaign_ids=None, adgroup_ids=ids)
            for ids in _groups(adgroups, MAX_FILTER_IDS)
        ]
