"""The base streams: URL, auth, session, retries and error handling shared by every stream."""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable, Generator, Iterable, Mapping
from datetime import datetime, timezone
from functools import cached_property
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

import requests
from singer_sdk.exceptions import FatalAPIError
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.singerlib.messages import RecordMessage
from singer_sdk.streams import RESTStream

from tap_tiktok_ads.async_reports import TASK_DOWNLOAD_PATH
from tap_tiktok_ads.batches import BatchFiles, checkpointed_manifests
from tap_tiktok_ads.envelope import check_response, envelope_data, envelope_of
from tap_tiktok_ads.pagination import TikTokPaginator
from tap_tiktok_ads.services import TikTokTap

if TYPE_CHECKING:
    from singer_sdk.helpers._batch import BaseBatchFileEncoding, BatchConfig
    from singer_sdk.helpers.types import Context

#: Tries per request before a retriable failure becomes the run's failure (about 2 minutes).
MAX_TRIES = 8


class SyncStoppedError(Exception):
    """Raised in background fetches once the run has failed."""


def utc_now() -> datetime:
    """The current time; tests replace it (in ``streams.reports``) to pin 'today'."""
    return datetime.now(timezone.utc)


def encode_query(params: Mapping[str, Any]) -> dict[str, Any]:
    """Arrays and objects travel JSON-encoded in the query string (reports are GET-only)."""
    return {
        key: json.dumps(value, separators=(",", ":")) if isinstance(value, (list, dict)) else value
        for key, value in params.items()
        if value is not None
    }


def is_report_file(response: requests.Response, path: str) -> bool:
    """An async report task's CSV file, not an envelope: ``report/task/download`` answers
    the file itself ("CSV file streams", doc 1740302808815618), or JSON when it has none."""
    return (
        path.endswith(TASK_DOWNLOAD_PATH)
        and response.status_code == HTTPStatus.OK
        # JSON is an envelope (an error, or a download link); HTML an error page.
        and response.content.lstrip()[:1] not in (b"{", b"<")
    )


class TikTokStream(RESTStream[int]):
    """Base for every TikTok stream. Subclasses state only what differs."""

    # Records are typed as they are built, so the SDK's per-record conformance pass
    # (about half of a toy tap's CPU) has nothing to do.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    _tap: TikTokTap
    #: Set when a checkpoint moved the bookmark in BATCH mode (its STATE waits for the BATCH).
    _checkpoint_pending = False

    def log(self, message: str, *args: Any, level: int = logging.INFO, **kwargs: Any) -> None:
        # The SDK announces a failing stream at error level before the failure itself is
        # reported: tap.main() says what failed and what to do, and that must be the first
        # error line a person (or the sync runner) reads.
        if level >= logging.ERROR and message.startswith("An unhandled error occurred"):
            level = logging.DEBUG
        super().log(message, *args, level=level, **kwargs)

    @property
    def url_base(self) -> str:
        return self._tap.api_base_url

    @property
    def authenticator(self) -> Any:
        return self._tap.access_token_auth

    @property
    def requests_session(self) -> requests.Session:
        return self._tap.http_session

    @property
    def timeout(self) -> int:
        return int(self.config["request_timeout"])

    @cached_property
    def _every_property_selected(self) -> bool:
        return all(self.mask[("properties", name)] for name in self.schema["properties"])

    def _generate_record_messages(
        self, record: dict[str, Any]
    ) -> Generator[RecordMessage, None, None]:
        """The SDK's record path minus two per-record passes that do nothing for us.

        Records are already typed (conformance level NONE), and when every property is
        selected, the per-record walk that drops deselected properties is pure cost. Measured:
        the two took about a fifth of the tap's CPU on large reports.
        """
        if not self._every_property_selected:
            yield from super()._generate_record_messages(record)
            return
        extracted_at = utc_now()
        for stream_map in self.stream_maps:
            mapped = stream_map.transform(record)
            if mapped is not None:
                yield RecordMessage(
                    stream=stream_map.stream_alias,
                    record=mapped,
                    version=self._stream_version,
                    time_extracted=extracted_at,
                )

    @cached_property
    def batch_mode(self) -> bool:
        return self.get_batch_config(self.config) is not None

    def get_batches(
        self, batch_config: BatchConfig, context: Context | None = None
    ) -> Iterable[tuple[BaseBatchFileEncoding, list[str]]]:
        """BATCH mode (see ``batches``): mapped rows in files, a manifest per checkpoint.

        The SDK writes each manifest's BATCH message and then a STATE message; the manifest
        holds every row up to the checkpoint just passed, so that STATE is covered.
        """
        maps = self.stream_maps
        if len(maps) != 1:
            raise FatalAPIError(
                f"batch_config: stream maps turn {self.name} into {len(maps)} streams; BATCH "
                "output supports one. Remove batch_config or the extra stream maps."
            )
        stream_map = maps[0]
        mapped = (
            row
            for record in self._sync_records(context, write_messages=False)
            if (row := stream_map.transform(record)) is not None
        )
        self._tap.clean_old_batch_files(batch_config)
        files = BatchFiles(batch_config, stream_map.stream_alias, self._tap.sync_started_ms)
        for manifest in checkpointed_manifests(mapped, files, self._take_checkpoint):
            yield batch_config.encoding, manifest

    def _take_checkpoint(self) -> bool:
        pending, self._checkpoint_pending = self._checkpoint_pending, False
        return pending

    def get_new_paginator(self) -> TikTokPaginator:
        return TikTokPaginator()

    def parse_response(self, response: requests.Response) -> Iterable[dict[str, Any]]:
        rows: list[dict[str, Any]] = envelope_data(envelope_of(response)).get("list") or []
        return rows

    # Errors

    def validate_response(self, response: requests.Response) -> None:
        path = self._path_of(response)
        if is_report_file(response, path):
            return  # an async report's CSV file (async_reports): no envelope to check
        check_response(response, path, self._tap.token_manager.renew_after_rejection)

    def _path_of(self, response: requests.Response) -> str:
        # Only the path: query strings can hold the app secret (advertiser discovery).
        url = response.request.path_url if response.request is not None else self.path
        return (url or "").split("?", 1)[0]

    def response_error_message(self, response: requests.Response) -> str:
        return f"HTTP {response.status_code} from {self._path_of(response)}"

    # Retries: exponential with full jitter, bounded; never the fixed 300 s sleep peers use.

    def backoff_wait_generator(self) -> Generator[float, None, None]:
        wait = 1.0
        while True:
            yield wait
            wait = min(wait * 2, 60.0)

    def backoff_jitter(self, value: float) -> float:
        return value / 2 + random.uniform(0, value / 2)

    def backoff_max_tries(self) -> int:
        return MAX_TRIES

    def backoff_handler(self, details: Mapping[str, Any]) -> None:
        if self._tap.stopping.is_set():
            # The run already failed: a prefetching worker must not keep retrying (and keep
            # the process alive) for a page nobody will read.
            msg = "the sync stopped; not retrying"
            raise SyncStoppedError(msg)
        exc = details.get("exception")
        self.logger.warning(
            "Retry %d for %s in %.1f s: %s",
            details.get("tries", 0),
            self.name,
            details.get("wait") or 0.0,
            self._tap.redact(str(exc) if exc else "unknown error"),
        )

    # Direct calls (advertiser lookups, report pages) through the same retry and errors.

    def fetch_data(
        self, path: str, params: Mapping[str, Any], context: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """GET ``path`` with retries and error handling; returns the envelope's ``data``."""
        return envelope_data(envelope_of(self.fetch_response(path, params, context)))

    def fetch_response(
        self,
        path: str,
        params: Mapping[str, Any],
        context: Mapping[str, Any] | None = None,
        *,
        body: Mapping[str, Any] | None = None,
        pace: Callable[[], None] | None = None,
    ) -> requests.Response:
        """GET ``path`` (POST ``body`` as JSON when given) with retries and error handling;
        the validated response. ``pace`` runs before every try (an endpoint's own limit)."""
        prepared = self.build_prepared_request(
            method="GET" if body is None else "POST",
            url=f"{self.url_base}{path}",
            params=encode_query(params),
            headers=self.http_headers,
            json=body,
        )

        def paced(prepared: requests.PreparedRequest, context: Any) -> requests.Response:
            if pace is not None:
                pace()
            return self._request(prepared, context)

        send = self.request_decorator(paced if pace is not None else self._request)
        response: requests.Response = send(prepared, context)
        return response


class AdvertiserPartitionedStream(TikTokStream):
    """One partition (and one bookmark) per advertiser."""

    @property
    def partitions(self) -> list[dict[str, Any]]:
        return [{"advertiser_id": advertiser_id} for advertiser_id in self._tap.advertisers.ids()]
