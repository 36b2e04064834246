"""Daily report streams: date windows, pages fetched ahead, a bookmark per window."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from functools import cached_property, partial
from typing import Any, ClassVar

from singer_sdk.helpers.types import Context

from tap_tiktok_ads import schemas
from tap_tiktok_ads.client import AdvertiserPartitionedStream, utc_now
from tap_tiktok_ads.pagination import RawPage
from tap_tiktok_ads.prefetch import prefetch_ordered
from tap_tiktok_ads.values import LOGGER, report_day, to_integer, to_number
from tap_tiktok_ads.windows import DateWindow, date_windows, window_page_tasks

REPORT_PATH = "/report/integrated/get/"
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
    status_filter_field: ClassVar[str]
    attribute_fields: ClassVar[list[str]]
    metric_types: ClassVar[dict[str, str]]

    def get_records(self, context: Context | None) -> Iterator[dict[str, Any]]:
        assert context is not None
        advertiser_id = context["advertiser_id"]
        windows = self.windows_for(advertiser_id, context)
        pool, depth = self._tap.executor, self._tap.prefetch_depth
        fetch = partial(self._fetch_page, advertiser_id)
        # The next windows' first pages (which carry total_page) are fetched a little ahead,
        # so the page queue flows across window boundaries instead of draining at each one,
        # while the current window's pages keep priority.
        first_pages = prefetch_ordered(
            pool, (partial(fetch, w, 1) for w in windows), FIRST_PAGE_LOOKAHEAD
        )
        pages = prefetch_ordered(pool, window_page_tasks(windows, first_pages, fetch), depth)
        seen: set[tuple[str, str]] = set()
        rows = done = 0
        try:
            for window, page, is_last_page in pages:
                for row in self._rows(page, seen):
                    rows += 1
                    yield row
                if is_last_page:
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

    def _fetch_page(self, advertiser_id: str, window: DateWindow, page: int) -> RawPage:
        params: dict[str, Any] = {
            "advertiser_id": advertiser_id,
            "report_type": "BASIC",
            "data_level": self.data_level,
            "dimensions": [self.id_field, "stat_time_day"],
            "metrics": [*self.attribute_fields, *self.metric_types],
            "start_date": window.start.isoformat(),
            "end_date": window.end.isoformat(),
            "page": page,
            "page_size": self.config["page_size"],
        }
        if self.config["include_deleted"]:
            params["filtering"] = [
                {
                    "field_name": self.status_filter_field,
                    "filter_type": "IN",
                    "filter_value": '["STATUS_ALL"]',
                }
            ]
        return RawPage.of(
            self.fetch_response(REPORT_PATH, params, {"advertiser_id": advertiser_id})
        )

    @cached_property
    def _metric_parsers(self) -> list[tuple[str, Callable[[str, object], Any]]]:
        return [
            (name, to_integer if kind == schemas.INTEGER else to_number)
            for name, kind in self.metric_types.items()
        ]

    def _rows(self, page: RawPage, seen: set[tuple[str, str]]) -> Iterator[dict[str, Any]]:
        """Flatten ``{dimensions, metrics}`` rows; drop rows without keys and repeats."""
        id_field, parsers, attributes = self.id_field, self._metric_parsers, self.attribute_fields
        for row in page.rows():
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
    metric_types = schemas.AD_GROUP_REPORT_METRICS
