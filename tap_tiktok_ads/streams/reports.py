"""Daily report streams: date windows, pages fetched ahead, a bookmark per window."""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator, Iterable, Iterator
from datetime import date, timedelta
from functools import cached_property, partial
from typing import Any, ClassVar

from singer_sdk.exceptions import FatalAPIError
from singer_sdk.helpers.types import Context

from tap_tiktok_ads import schemas
from tap_tiktok_ads.async_reports import TaskReport, refused, rows_by_window, use_async
from tap_tiktok_ads.client import AdvertiserPartitionedStream, utc_now
from tap_tiktok_ads.entity_queries import EntityPass, adgroup_passes, campaign_passes
from tap_tiktok_ads.envelope import NoPermissionError
from tap_tiktok_ads.pagination import RawPage, has_more_pages
from tap_tiktok_ads.prefetch import prefetch_ordered
from tap_tiktok_ads.reconcile import Reconciler
from tap_tiktok_ads.report_queries import QueryPlanner, ReportQuery, report_filtering
from tap_tiktok_ads.values import LOGGER, report_day, to_integer, to_number
from tap_tiktok_ads.windows import DateWindow, date_windows, window_page_tasks

REPORT_PATH = "/report/integrated/get/"
CAMPAIGN_PATH = "/campaign/get/"
ADGROUP_PATH = "/adgroup/get/"
FIRST_PAGE_LOOKAHEAD = 2


class ReportStream(AdvertiserPartitionedStream):
    """Daily BASIC reports, incremental per advertiser on ``stat_date`` with a lookback.

    The bookmark moves only when a whole date window has been emitted, so an interrupted
    run resumes without gaps; each run re-reads ``lookback_days`` before it because
    TikTok re-attributes conversions to earlier days.
    """

    replication_key = "stat_date"
    is_sorted = False
    data_level: ClassVar[str]
    id_field: ClassVar[str]
    #: The report filter that includes deleted objects; None where rows already include them.
    status_filter_field: ClassVar[str | None]
    attribute_fields: ClassVar[list[str]]
    #: The attribute metric that names the row's object (names come from the report itself).
    name_field: ClassVar[str]
    #: Whether one campaign's rows can be asked for per group of its ad groups (ad group
    #: rows can; campaign rows would have to be summed, and their ratios cannot be).
    splits_campaigns: ClassVar[bool] = False
    #: Whether a truncated result can be split by campaign at all (advertiser rows cannot:
    #: one row per day would have to be summed from the parts).
    splits_by_campaign: ClassVar[bool] = True
    metric_types: ClassVar[dict[str, str]]
    # Plans are made on fetch threads, so the campaign list is fetched under a lock.
    _campaign_ids_lock: ClassVar[threading.Lock] = threading.Lock()
    _campaign_ids_by_advertiser: dict[str, list[str]] | None = None
    #: TikTok refused this app async report tasks (40001): the run reads reports synchronously.
    _async_refused = False

    def get_records(self, context: Context | None) -> Iterator[dict[str, Any]]:
        assert context is not None
        advertiser_id = context["advertiser_id"]
        windows = self.windows_for(advertiser_id, context)
        mode = str(self.config.get("async_reports") or "off")
        if use_async(mode, windows) and not self._async_refused:
            # Windows the tasks did not cover (auto, when TikTok refuses tasks) go the usual way.
            windows = yield from self._async_records(context, advertiser_id, windows, mode)
            if not windows:
                return
        pool, depth = self._tap.executor, self._tap.prefetch_depth
        fetch = partial(self._fetch_page, advertiser_id)
        planner = QueryPlanner(
            advertiser_id,
            self.data_level,
            fetch_first_page=partial(self._fetch_first_page, advertiser_id),
            campaign_ids=partial(self._campaign_ids, advertiser_id),
            adgroup_ids_of=(
                partial(self._adgroup_ids_of, advertiser_id) if self.splits_campaigns else None
            ),
            splittable=self.splits_by_campaign,
        )
        reconciler = Reconciler.of(
            str(self.config.get("reconcile_totals") or "off"),
            self.name,
            self.data_level,
            advertiser_id,
            self.metric_types,
        )
        # The next windows' plans (their first pages, which carry total_page, and any split a
        # too large or truncated query needs) are made a little ahead, so the page queue
        # flows across window boundaries instead of draining at each one, while the current
        # window's pages keep priority.
        plan = partial(reconciler.plan, planner.plan) if reconciler else planner.plan
        plans = prefetch_ordered(pool, (partial(plan, w) for w in windows), FIRST_PAGE_LOOKAHEAD)
        pages = prefetch_ordered(pool, window_page_tasks(windows, plans, fetch), depth)
        seen: set[tuple[str, str]] = set()
        name_field, unnamed = self.name_field, 0
        rows = done = 0
        try:
            for window, page, is_last_page in pages:
                for record in self._rows(page, seen):
                    if record[name_field] is None:
                        unnamed += 1
                    rows += 1
                    if reconciler is not None:
                        reconciler.add(record)
                    yield record
                if is_last_page:
                    if reconciler is not None:
                        reconciler.window_done(window)
                    self._checkpoint(context, window.end)
                    seen = set()
                    done += 1
                    # Progress at info, one line per window (requests are at debug).
                    LOGGER.info(
                        "%s for advertiser %s: window %s..%s done (%d of %d), %d rows so far",
                        self.name,
                        advertiser_id,
                        window.start,
                        window.end,
                        done,
                        len(windows),
                        rows,
                    )
        except Exception:
            self._tap.stopping.set()
            raise
        if reconciler is not None:
            reconciler.log_count()
        self._warn_unnamed(advertiser_id, unnamed)

    def _warn_unnamed(self, advertiser_id: str, unnamed: int) -> None:
        name_field = self.name_field
        if unnamed:
            # Counted, not silent: the marts take the name from the entity stream instead,
            # and a row whose object is in neither stays unnamed there.
            LOGGER.warning(
                "%s for advertiser %s: %d row(s) came without %s from the report",
                self.name,
                advertiser_id,
                unnamed,
                name_field,
            )

    # Async report tasks (async_reports, ``async_reports``)

    def _async_records(
        self, context: Context, advertiser_id: str, windows: list[DateWindow], mode: str
    ) -> Generator[dict[str, Any], None, list[DateWindow]]:
        """The same records and bookmarks as the synchronous path, from async report tasks.

        Returns the windows left to the synchronous path: none, unless TikTok refuses the
        app async reports (40001; they are granted per app) and ``mode`` is ``auto``."""
        report = TaskReport(
            advertiser_id,
            self.data_level,
            [self.id_field, "stat_time_day"],
            [*self.attribute_fields, *self.metric_types],
            self.fetch_response,
            self._tap.async_rate_limiter.acquire,
            self._tap.stopping.wait,
        )
        campaign_ids = self._campaign_ids(advertiser_id)  # a 40001 here is not about tasks
        unnamed = rows = done = 0
        try:
            for window, window_rows in rows_by_window(report, windows, campaign_ids, self.id_field):
                for record in self._flatten(window_rows, set()):
                    unnamed += record[self.name_field] is None
                    rows += 1
                    yield record
                self._checkpoint(context, window.end)
                done += 1
                LOGGER.info(
                    "%s for advertiser %s: window %s..%s done (%d of %d, async), %d rows",
                    self.name,
                    advertiser_id,
                    window.start,
                    window.end,
                    done,
                    len(windows),
                    rows,
                )
        except NoPermissionError as error:
            refused(self.name, mode, error, windows[done:])
            self._async_refused = True  # for this run's other advertisers too
            return windows[done:]
        except Exception:
            self._tap.stopping.set()
            raise
        self._warn_unnamed(advertiser_id, unnamed)
        return []

    def windows_for(self, advertiser_id: str, context: Context) -> list[DateWindow]:
        today = utc_now().astimezone(self._tap.advertisers.timezone(advertiser_id)).date()
        end = min(self._config_date("end_date") or today, today)
        start = self._config_date("start_date") or today
        bookmark = self.get_context_state(context).get("replication_key_value")
        if bookmark:
            lookback = timedelta(days=int(self.config["lookback_days"]))
            start = max(start, date.fromisoformat(str(bookmark)[:10]) - lookback)
        windows = date_windows(start, end)
        LOGGER.info(
            "%s for advertiser %s: %s..%s in %d window(s)",
            self.name,
            advertiser_id,
            start,
            end,
            len(windows),
        )
        return windows

    def _config_date(self, setting: str) -> date | None:
        value = self.config.get(setting)
        return date.fromisoformat(str(value)[:10]) if value else None

    def _fetch_first_page(self, advertiser_id: str, query: ReportQuery) -> RawPage:
        return self._request_page(advertiser_id, query, 1)

    def _fetch_page(self, advertiser_id: str, query: ReportQuery, page: int) -> RawPage:
        """A later page of a planned query: its first page was complete, so this must be too."""
        raw = self._request_page(advertiser_id, query, page)
        if raw.throttle:
            msg = (
                f"{self.data_level} report for advertiser {advertiser_id}, {query.describe()}: "
                f"page {page} came back truncated (X-Tt-Ads-Throttle: {raw.throttle}) though its "
                "first page was complete; run the sync again"
            )
            raise FatalAPIError(msg)
        return raw

    def _request_page(self, advertiser_id: str, query: ReportQuery, page: int) -> RawPage:
        params: dict[str, Any] = {
            "advertiser_id": advertiser_id,
            "report_type": "BASIC",
            "data_level": self.data_level,
            "dimensions": [self.id_field, "stat_time_day"],
            "metrics": [*self.attribute_fields, *self.metric_types],
            "start_date": query.window.start.isoformat(),
            "end_date": query.window.end.isoformat(),
            "page": page,
            "page_size": self.config["page_size"],
            "filtering": report_filtering(
                self.status_filter_field,
                include_deleted=bool(self.config["include_deleted"]),
                query=query,
            ),
        }
        if page == 1 and self.config.get("reconcile_totals") not in (None, "off"):
            params["enable_total_metrics"] = True
        return RawPage.of(
            self.fetch_response(REPORT_PATH, params, {"advertiser_id": advertiser_id})
        )

    def _campaign_ids(self, advertiser_id: str) -> list[str]:
        """Every campaign of the advertiser, to split a truncated report by (fetched once)."""
        with self._campaign_ids_lock:
            if self._campaign_ids_by_advertiser is None:
                self._campaign_ids_by_advertiser = {}
            if advertiser_id not in self._campaign_ids_by_advertiser:
                passes = campaign_passes(include_deleted=bool(self.config["include_deleted"]))
                self._campaign_ids_by_advertiser[advertiser_id] = self._list_ids(
                    advertiser_id, CAMPAIGN_PATH, "campaign_id", passes, {}
                )
            return self._campaign_ids_by_advertiser[advertiser_id]

    def _adgroup_ids_of(self, advertiser_id: str, campaign_id: str) -> list[str]:
        """The ad groups of one campaign, to split a truncated ad group report further."""
        passes = adgroup_passes(include_deleted=bool(self.config["include_deleted"]))
        return self._list_ids(
            advertiser_id, ADGROUP_PATH, "adgroup_id", passes, {"campaign_ids": [campaign_id]}
        )

    def _list_ids(
        self,
        advertiser_id: str,
        path: str,
        id_field: str,
        passes: list[EntityPass],
        narrowing: dict[str, Any],
    ) -> list[str]:
        """Ids from an entity endpoint, through every documented pass, in listing order."""
        ids: dict[str, None] = {}
        for entity_pass in passes:
            page = 1
            while True:
                data = self.fetch_data(
                    path,
                    {
                        "advertiser_id": advertiser_id,
                        "page": page,
                        "page_size": entity_pass.page_size(int(self.config["page_size"])),
                        "fields": [id_field],
                        "filtering": {**entity_pass.filtering, **narrowing},
                    },
                    {"advertiser_id": advertiser_id},
                )
                for row in data.get("list") or []:
                    if row.get(id_field):
                        ids[str(row[id_field])] = None
                if not has_more_pages(data):
                    break
                page += 1
        return list(ids)

    @cached_property
    def _metric_parsers(self) -> list[tuple[str, Callable[[str, object], Any]]]:
        return [
            (name, to_integer if kind == schemas.INTEGER else to_number)
            for name, kind in self.metric_types.items()
        ]

    def _rows(self, page: RawPage, seen: set[tuple[str, str]]) -> Iterator[dict[str, Any]]:
        return self._flatten(page.rows(), seen)

    def _flatten(
        self, report_rows: Iterable[dict[str, Any]], seen: set[tuple[str, str]]
    ) -> Iterator[dict[str, Any]]:
        """Flatten ``{dimensions, metrics}`` rows; drop rows without keys and repeats."""
        id_field, parsers, attributes = self.id_field, self._metric_parsers, self.attribute_fields
        for row in report_rows:
            dimensions = row.get("dimensions") or {}
            object_id, day = dimensions.get(id_field), dimensions.get("stat_time_day")
            if not object_id or not day:
                LOGGER.warning(
                    "Skipping a %s row without %s or day: %r", self.name, id_field, dimensions
                )
                continue
            key = (str(object_id), report_day(str(day)))
            if key in seen:
                LOGGER.warning("Skipping a repeated %s row for %s on %s", self.name, *key)
                continue
            seen.add(key)
            metrics = row.get("metrics") or {}
            record: dict[str, Any] = {id_field: key[0], "stat_date": key[1]}
            for name in attributes:
                value = metrics.get(name)
                record[name] = None if value in (None, "-") else str(value)
            for name, parse in parsers:
                record[name] = parse(name, metrics.get(name))
            yield record

    def _checkpoint(self, context: Context, last_day: date) -> None:
        """Every row up to ``last_day`` has been emitted: move the bookmark and say so."""
        state = self.get_context_state(context)
        previous = state.get("replication_key_value")
        if previous is None or last_day.isoformat() > str(previous):
            state["replication_key"] = self.replication_key
            state["replication_key_value"] = last_day.isoformat()
            self.state_manager.is_flushed = False
            if self.batch_mode:
                self._checkpoint_pending = True  # STATE follows this window's BATCH
            else:
                self._write_state_message()

    def _increment_stream_state(
        self, latest_record: dict[str, Any], *, context: Context | None = None
    ) -> None:
        """Rows within a window are unordered; bookmarks move per window in ``_checkpoint``."""


class CampaignPerformanceStream(ReportStream):
    name = "campaign_performance"
    path = REPORT_PATH
    primary_keys: ClassVar[list[str]] = ["advertiser_id", "campaign_id", "stat_date"]
    schema = schemas.CAMPAIGN_PERFORMANCE
    data_level = "AUCTION_CAMPAIGN"
    id_field = "campaign_id"
    status_filter_field = "campaign_status"
    attribute_fields: ClassVar[list[str]] = ["campaign_name", "objective_type"]
    name_field = "campaign_name"
    metric_types = schemas.CAMPAIGN_REPORT_METRICS


class AdGroupPerformanceStream(ReportStream):
    name = "ad_group_performance"
    path = REPORT_PATH
    primary_keys: ClassVar[list[str]] = ["advertiser_id", "adgroup_id", "stat_date"]
    schema = schemas.AD_GROUP_PERFORMANCE
    data_level = "AUCTION_ADGROUP"
    id_field = "adgroup_id"
    status_filter_field = "adgroup_status"
    attribute_fields: ClassVar[list[str]] = ["campaign_id", "adgroup_name"]
    name_field = "adgroup_name"
    splits_campaigns = True
    metric_types = schemas.AD_GROUP_REPORT_METRICS


class AdPerformanceStream(ReportStream):
    """Daily ad rows with the video funnel and engagement metrics (creative analysis)."""

    name = "ad_performance"
    path = REPORT_PATH
    primary_keys: ClassVar[list[str]] = ["advertiser_id", "ad_id", "stat_date"]
    selected_by_default = False
    schema = schemas.AD_PERFORMANCE
    data_level = "AUCTION_AD"
    id_field = "ad_id"
    status_filter_field = "ad_status"
    attribute_fields: ClassVar[list[str]] = ["campaign_id", "adgroup_id", "ad_name", "ad_text"]
    name_field = "ad_name"
    # Ad rows stay whole when a campaign is narrowed to groups of its ad groups.
    splits_campaigns = True
    metric_types = schemas.AD_REPORT_METRICS


class AdvertiserPerformanceStream(ReportStream):
    """One row per advertiser and day, with the spend split into cash and vouchers."""

    name = "advertiser_performance"
    path = REPORT_PATH
    primary_keys: ClassVar[list[str]] = ["advertiser_id", "stat_date"]
    selected_by_default = False
    schema = schemas.ADVERTISER_PERFORMANCE
    data_level = "AUCTION_ADVERTISER"
    id_field = "advertiser_id"
    # The advertiser's row is its whole spend, deleted objects' included: there is no
    # status filter at this level (a campaign_status filter is a 40002 here).
    status_filter_field = None
    attribute_fields: ClassVar[list[str]] = ["advertiser_name"]
    name_field = "advertiser_name"
    splits_by_campaign = False
    metric_types = schemas.ADVERTISER_REPORT_METRICS
