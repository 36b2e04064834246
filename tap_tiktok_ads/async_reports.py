"""Asynchronous report tasks for long backfills (setting ``async_reports``).

TikTok's async reports (docs 1740302766489602, 1740302781443073, 1740302808815618): a task is
created with ``POST /report/task/create/`` (the report's fields in a JSON body; no 30-day limit,
no pages), polled with ``GET /report/task/check/`` until its status is ``SUCCESS`` (``QUEUING``
and ``PROCESSING`` before; ``FAILED`` and ``CANCELED`` end it), and its file fetched with
``GET /report/task/download/`` as a CSV stream (``output_format`` ``CSV_STRING``; the title
row holds field names with ``enable_report_title_translation`` false). The three endpoints
have their own per-app limit (0.3 requests per second), paced by the run's
``async_rate_limiter`` on top of the ordinary throttle.

Async reports filter by ``campaign_ids``/``adgroup_ids``/``ad_ids`` only (at most 20,000 ids),
not by status, buying type or origin, so a task names every campaign the entity passes list
(deleted, TopView and Promote included): the same scope as the synchronous query with
``STATUS_ALL``. Leaving deleted objects out cannot be expressed, hence ``include_deleted``
must be true (settings check).

When a task pays off: the synchronous path costs at least one request per 30-day window;
the task path costs the campaign listing plus, per task, a create, a few checks and a
download. ``auto`` takes tasks only when even that minimum is larger (no request is spent to
decide), so daily runs (one or two windows) never use them. TikTok grants async reports per
app; when it refuses them (40001), ``auto`` leaves the windows to the synchronous path and
``always`` stops.
"""

from __future__ import annotations

import csv
import io
import time
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from singer_sdk.exceptions import FatalAPIError

from tap_tiktok_ads.entity_queries import campaign_passes
from tap_tiktok_ads.envelope import NoPermissionError, envelope_data, envelope_of
from tap_tiktok_ads.values import LOGGER
from tap_tiktok_ads.windows import DateWindow

TASK_CREATE_PATH = "/report/task/create/"
TASK_CHECK_PATH = "/report/task/check/"
TASK_DOWNLOAD_PATH = "/report/task/download/"
#: Windows one task covers: bounds the rows held while a task's file is split into windows.
WINDOWS_PER_TASK = 12
#: Async report filters take at most this many ids (doc 1740302766489602).
MAX_TASK_IDS = 20_000
#: Checks to expect per task (the estimate behind ``auto``): at 0.3 requests per second each
#: check waits its turn (about 3.7 s), so five cover a task done within about 20 s.
EXPECTED_CHECKS = 5
#: Give up on a task that is not done after this long.
TASK_TIMEOUT_S = 3600.0
#: First and longest wait between two checks of one task.
FIRST_POLL_WAIT_S, MAX_POLL_WAIT_S = 0.2, 30.0
UNFINISHED = frozenset({"QUEUING", "PROCESSING"})


def task_count(windows: int) -> int:
    return -(-windows // WINDOWS_PER_TASK)


def async_request_estimate(windows: int) -> int:
    """Requests the task path needs for ``windows`` windows (campaign ids under 20,000)."""
    listing = len(campaign_passes(include_deleted=True))
    return listing + task_count(windows) * (2 + EXPECTED_CHECKS)


def use_async(mode: str, windows: Sequence[DateWindow]) -> bool:
    """``always``; or ``auto`` when even one request per window is more than the tasks need."""
    if not windows or mode == "off":
        return False
    return mode == "always" or len(windows) > async_request_estimate(len(windows))


def task_groups(windows: Sequence[DateWindow]) -> list[list[DateWindow]]:
    return [
        list(windows[i : i + WINDOWS_PER_TASK]) for i in range(0, len(windows), WINDOWS_PER_TASK)
    ]


def id_groups(ids: Sequence[str]) -> list[Sequence[str]]:
    return [ids[i : i + MAX_TASK_IDS] for i in range(0, len(ids), MAX_TASK_IDS)]


def as_report_row(row: dict[str, str], id_field: str) -> dict[str, Any]:
    """A CSV row in the synchronous report's ``{dimensions, metrics}`` shape; CSV has no
    null, so an empty cell is null (as ``"-"`` is)."""
    dimensions = {id_field: row.get(id_field), "stat_time_day": row.get("stat_time_day")}
    metrics = {k: (v if v != "" else None) for k, v in row.items() if k not in dimensions}
    return {"dimensions": dimensions, "metrics": metrics}


@dataclass(frozen=True)
class TaskReport:
    """One async report of an advertiser: what it asks for, and how requests are sent.

    ``fetch`` is the stream's ``fetch_response`` (retries, errors, the run's throttle);
    ``pace`` the async endpoints' own limiter; ``wait`` sleeps and says whether the run is
    stopping (so a failed run does not keep polling).
    """

    advertiser_id: str
    level: str
    dimensions: list[str]
    metrics: list[str]
    fetch: Callable[..., Any]
    pace: Callable[[], None]
    wait: Callable[[float], bool]

    def rows(self, task_id: str, window: DateWindow) -> Iterator[dict[str, str]]:
        """Every row of a task (of ``window``), as its CSV rows, once it is done."""
        self._wait_until_done(task_id, window)
        response = self._call(TASK_DOWNLOAD_PATH, {"task_id": task_id})
        # The envelope of a task not ready (40201) was retried by ``fetch``; this is the file.
        reader = csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")))
        missing = {*self.dimensions, *self.metrics} - set(reader.fieldnames or [])
        if missing:
            msg = (
                f"async report task {task_id} for advertiser {self.advertiser_id}: its file "
                f"lacks the column(s) {', '.join(sorted(missing))}; set async_reports to off"
            )
            raise FatalAPIError(msg)
        yield from reader

    def _call(self, path: str, params: dict[str, Any], body: dict[str, Any] | None = None) -> Any:
        scope = {"advertiser_id": self.advertiser_id}
        if body is not None:
            return self.fetch(path, {}, scope, body={**scope, **body}, pace=self.pace)
        return self.fetch(path, {**scope, **params}, scope, pace=self.pace)

    def create(self, window: DateWindow, campaign_ids: Sequence[str]) -> str:
        """A task for ``window`` and these campaigns; its id."""
        quoted = ",".join(f'"{i}"' for i in campaign_ids)
        body = {
            "report_type": "BASIC",
            "data_level": self.level,
            "dimensions": self.dimensions,
            "metrics": self.metrics,
            "start_date": window.start.isoformat(),
            "end_date": window.end.isoformat(),
            "output_format": "CSV_STRING",
            # Field names, not Ads Manager titles (which TikTok changes from time to time).
            "enable_report_title_translation": False,
            "filtering": [
                {"field_name": "campaign_ids", "filter_type": "IN", "filter_value": f"[{quoted}]"}
            ],
        }
        data = _data(self._call(TASK_CREATE_PATH, {}, body))
        task_id = str(data.get("task_id") or "")
        if not task_id:
            msg = f"report/task/create for advertiser {self.advertiser_id} answered no task_id"
            raise FatalAPIError(msg)
        LOGGER.info(
            "%s async report task %s for advertiser %s: %s..%s, %d campaign(s)",
            self.level,
            task_id,
            self.advertiser_id,
            window.start,
            window.end,
            len(campaign_ids),
        )
        return task_id

    def _wait_until_done(self, task_id: str, window: DateWindow) -> None:
        started, pause = time.monotonic(), FIRST_POLL_WAIT_S
        while True:
            data = _data(self._call(TASK_CHECK_PATH, {"task_id": task_id}))
            status = str(data.get("status") or "")
            if status == "SUCCESS":
                return
            where = (
                f"async report task {task_id} ({self.level}, advertiser {self.advertiser_id}, "
                f"{window.start}..{window.end})"
            )
            if status not in UNFINISHED:
                reason = f": {data['message']}" if data.get("message") else ""
                msg = f"{where} ended {status or 'without a status'}{reason}; run the sync again"
                raise FatalAPIError(msg)
            if time.monotonic() - started > TASK_TIMEOUT_S:
                msg = (
                    f"{where} is still {status} after {TASK_TIMEOUT_S / 60:.0f} minutes; "
                    "run the sync again later or set async_reports to off"
                )
                raise FatalAPIError(msg)
            if self.wait(pause):
                msg = f"{where}: the sync stopped"
                raise FatalAPIError(msg)
            pause = min(pause * 2, MAX_POLL_WAIT_S)


def _data(response: Any) -> dict[str, Any]:
    return envelope_data(envelope_of(response))


def rows_by_window(
    report: TaskReport, windows: Sequence[DateWindow], campaign_ids: Sequence[str], id_field: str
) -> Iterator[tuple[DateWindow, list[dict[str, Any]]]]:
    """Each window with its rows (``{dimensions, metrics}``, as synchronous pages hold them),
    in order: one task per group of windows (per 20,000 campaigns), its file split by day.
    The rows of one group are held until its last window is handed out."""
    for group in task_groups(windows):
        span = DateWindow(group[0].start, group[-1].end)
        # Every task of the group first: TikTok works on them side by side.
        tasks = [report.create(span, ids) for ids in id_groups(campaign_ids)]
        starts = [w.start.isoformat() for w in group]
        by_window: list[list[dict[str, Any]]] = [[] for _ in group]
        for task_id in tasks:
            for row in report.rows(task_id, span):
                day = str(row.get("stat_time_day") or "")[:10]
                by_window[max(bisect_right(starts, day) - 1, 0)].append(
                    as_report_row(row, id_field)
                )
        for index, window in enumerate(group):
            window_rows, by_window[index] = by_window[index], []
            yield window, window_rows


def refused(stream: str, mode: str, error: NoPermissionError, left: list[DateWindow]) -> None:
    """TikTok refused the app async tasks (40001): ``always`` stops, ``auto`` says that the
    synchronous path takes the ``left`` windows."""
    if mode != "auto":
        msg = (
            f"async_reports 'always': TikTok refused report/task/create ({error}). TikTok "
            "grants async reports per app: set async_reports to auto or off"
        )
        raise FatalAPIError(msg) from None
    LOGGER.warning(
        "%s: TikTok refused async report tasks (%s); reading %d window(s) synchronously",
        stream,
        error,
        len(left),
    )
