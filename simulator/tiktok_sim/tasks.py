"""Asynchronous reports: ``POST /report/task/create/``, ``GET /report/task/check/``,
``GET /report/task/download/``.

From TikTok's docs (Create an asynchronous report task, doc 1740302766489602; Get the status,
doc 1740302781443073; Download the output, doc 1740302808815618):

- create takes the report's fields in a JSON body (``report_type``, ``data_level``,
  ``dimensions``, ``metrics``, ``start_date``/``end_date`` or ``query_lifetime``,
  ``filtering``, ``output_format``, ``enable_report_title_translation``) and answers
  ``data.task_id``. There is no limit on the date range and no paging. Only the filter
  fields ``campaign_ids``, ``adgroup_ids`` and ``ad_ids`` are supported, at most 20,000 ids.
- check answers ``data.status``: ``QUEUING``, ``PROCESSING``, ``SUCCESS``, ``FAILED`` or
  ``CANCELED`` (``data.message`` says why a task failed).
- download answers the file as a CSV stream (``output_format`` ``CSV_STRING``, the default)
  or JSON with ``download_url`` (``CSV_DOWNLOAD``); the title row holds the field names when
  ``enable_report_title_translation`` is false, translated titles otherwise (default true).
- Tasks are valid for 30 days. The async endpoints have their own per-app rate limit (issue 17:
  0.3 requests per second; ``SimConfig.async_qps_limit``), answered with 40100 above it.

The simulator's own choices, where the docs are silent: a task is ``QUEUING`` for the first
fifth of ``async_task_seconds`` and ``PROCESSING`` until it has passed, and ends ``FAILED`` only
when a check meets the fault ``fail_async_task``; downloading a task that
is not done is 40201 ("task not ready"); a task id of another advertiser is 40007. An id filter
names objects explicitly, so everything under the named campaigns or ad groups is in the
report whatever its status or buying type (async reports cannot filter by either); without an
id filter the scope is the synchronous report's default (no deleted, no TopView or Promote
objects). ``ad_ids`` is accepted and keeps nothing (tasks do not filter by ad yet).
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import threading
import time
from dataclasses import dataclass
from typing import Any

from tiktok_sim.config import SimConfig
from tiktok_sim.dataset import LEVELS, Dataset
from tiktok_sim.kinds import BUYING_TYPES, ORIGINS
from tiktok_sim.params import ApiError, Params, param_error
from tiktok_sim.report import (
    DAY,
    ReportQuery,
    _parse_dimensions,
    _parse_metrics,
    _row,
    report_groups,
)
from tiktok_sim.report_filters import Condition, ReportFilters, parse_filters

#: Async reports filter by these ids only, at most this many (doc 1740302766489602).
ASYNC_ID_FILTERS = ("campaign_ids", "adgroup_ids", "ad_ids")
MAX_ASYNC_FILTER_IDS = 20_000
OUTPUT_FORMATS = ("CSV_STRING", "CSV_DOWNLOAD", "XLSX_DOWNLOAD")
TASK_VALID_S = 30 * 24 * 3600
CSV_TYPE = "text/csv; charset=utf-8"
#: Titles of the title row when translation is on (the simulator's own wording, Ads
#: Manager style: the docs show "Campaign ID", "Cost", "Impression", "Click").
TITLES = {"spend": "Cost", "impressions": "Impression", "clicks": "Click", DAY: "By Day"}


def title_of(name: str) -> str:
    return TITLES.get(name) or " ".join(
        "ID" if part == "id" else part.capitalize() for part in name.split("_")
    )


@dataclass
class Task:
    task_id: str
    advertiser_id: str
    query: ReportQuery
    output_format: str
    translate_titles: bool
    created: float
    canceled: bool = False
    #: Why the task FAILED (fault ``fail_async_task``); empty while it has not.
    failure: str = ""


@dataclass(frozen=True)
class Download:
    """A CSV body, or JSON data (``CSV_DOWNLOAD``: a link to the file)."""

    csv: bytes | None = None
    data: dict[str, Any] | None = None


class TaskBoard:
    """Every async report task of the simulator, thread-safe."""

    def __init__(self, config: SimConfig, dataset: Dataset) -> None:
        self.config = config
        self.dataset = dataset
        self._lock = threading.Lock()
        self._tasks: dict[str, Task] = {}
        self._ids = itertools.count(1)
        #: Files served at ``/_sim/files/<name>`` for ``CSV_DOWNLOAD`` tasks (not counted).
        self.files: dict[str, bytes] = {}

    # ----- endpoints ------------------------------------------------------------------------

    def create(self, params: Params, advertiser_id: str) -> dict[str, Any]:
        query = self._parse(params, advertiser_id)
        output_format = params.text("output_format") or "CSV_STRING"
        if output_format not in OUTPUT_FORMATS:
            raise param_error(
                f"output_format: {output_format} is not supported; use one of "
                f"{', '.join(OUTPUT_FORMATS)}."
            )
        if output_format == "XLSX_DOWNLOAD":
            raise param_error("output_format: XLSX_DOWNLOAD is not simulated; use CSV_STRING.")
        translate = params.raw("enable_report_title_translation")
        with self._lock:
            task_id = f"{7_300_000_000_000_000_000 + next(self._ids)}"
            self._tasks[task_id] = Task(
                task_id,
                advertiser_id,
                query,
                output_format,
                translate_titles=translate is None
                or params.boolean("enable_report_title_translation"),
                created=time.monotonic(),
            )
        return {"task_id": task_id}

    def check(self, params: Params, advertiser_id: str) -> dict[str, Any]:
        task = self._task(params, advertiser_id)
        status = self.status(task)
        return {"status": status, "message": task.failure if status == "FAILED" else ""}

    def cancel(self, params: Params, advertiser_id: str) -> dict[str, Any]:
        task = self._task(params, advertiser_id)
        if self.status(task) != "SUCCESS":
            task.canceled = True
        return {}

    def download(self, params: Params, advertiser_id: str, base_url: str) -> Download:
        task = self._task(params, advertiser_id)
        status = self.status(task)
        if status != "SUCCESS":
            raise ApiError(40201, f"Task {task.task_id} is not ready yet (status {status}).")
        body = self.csv_of(task)
        if task.output_format == "CSV_STRING":
            return Download(csv=body)
        name = f"report_{task.task_id}.csv"
        self.files[name] = body
        return Download(
            data={
                "output_format": task.output_format,
                "file_name": name,
                "download_url": f"{base_url}/_sim/files/{name}",
            }
        )

    # ----- helpers --------------------------------------------------------------------------

    def fail(self, task_id: str, message: str) -> None:
        """The task ends FAILED with ``message`` (what the check answers from then on)."""
        with self._lock:
            task = self._tasks.get(task_id)
            if task is not None and not task.canceled:
                task.failure = message

    def status(self, task: Task) -> str:
        if task.canceled:
            return "CANCELED"
        if task.failure:
            return "FAILED"
        elapsed = time.monotonic() - task.created
        duration = self.config.async_task_seconds
        if elapsed >= duration:
            return "SUCCESS"
        return "QUEUING" if elapsed < duration / 5 else "PROCESSING"

    def _task(self, params: Params, advertiser_id: str) -> Task:
        task_id = params.required_text("task_id")
        with self._lock:
            task = self._tasks.get(task_id)
        expired = task is not None and time.monotonic() - task.created > TASK_VALID_S
        if task is None or task.advertiser_id != advertiser_id or expired:
            raise ApiError(40007, f"Task {task_id} does not exist for advertiser {advertiser_id}.")
        return task

    def _parse(self, params: Params, advertiser_id: str) -> ReportQuery:
        report_type = params.required_text("report_type")
        if report_type != "BASIC":
            raise param_error(
                f"report_type: {report_type} is not supported (the simulator serves BASIC)."
            )
        level = params.required_text("data_level")
        if level not in LEVELS:
            raise param_error(
                f"data_level: {level} is not supported; use one of {', '.join(LEVELS)}."
            )
        dimensions = _parse_dimensions(params, level, report_type)
        if params.boolean("query_lifetime"):
            if DAY in dimensions:
                raise param_error("dimensions: stat_time_day is not allowed with query_lifetime.")
            advertiser = self.dataset.advertiser(advertiser_id)
            assert advertiser is not None
            start, end = advertiser.first_day, advertiser.last_day
        else:
            start, end = params.day("start_date"), params.day("end_date")
            if end < start:
                raise param_error("end_date: Must not be earlier than start_date.")
        return ReportQuery(
            advertiser_id=advertiser_id,
            level=level,
            dimensions=dimensions,
            metrics=_parse_metrics(params, level, dimensions),
            start=start,
            end=end,
            page=1,
            page_size=1,
            filters=self._filters(params.json_list("filtering"), level),
            total_metrics=False,
        )

    def _filters(self, items: list[Any] | None, level: str) -> ReportFilters:
        for item in items or []:
            name = item.get("field_name") if isinstance(item, dict) else None
            if name not in ASYNC_ID_FILTERS:
                raise param_error(
                    f"filtering: field_name {name} is not supported in asynchronous reports; "
                    f"use {', '.join(ASYNC_ID_FILTERS)}."
                )
        conditions = [_id_condition(item) for item in items or [] if item["field_name"] != "ad_ids"]
        if any(item["field_name"] == "ad_ids" for item in items or []):
            _id_condition(next(i for i in items or [] if i["field_name"] == "ad_ids"))
            conditions.append(Condition("adgroup_ids", "IN", ()))  # no ads: keeps nothing
        if not conditions:
            return parse_filters(None, level, self.config.hide_special_campaigns)
        return ReportFilters("include", tuple(conditions), BUYING_TYPES_ALL, ORIGINS_ALL)

    def csv_of(self, task: Task) -> bytes:
        """Every row of the task's report, as TikTok's CSV file (title row first)."""
        query = task.query
        groups = report_groups(query, self.dataset)
        days = self.dataset.days_with_data(query.advertiser_id, query.start, query.end)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        names = [*query.dimensions, *query.metrics]
        writer.writerow([title_of(n) for n in names] if task.translate_titles else names)
        shapes = self.config.real_value_shapes
        for group in groups:
            if not days:
                break
            per_row = [[day] for day in days] if query.daily else [days]
            for row_days in per_row:
                totals = self.dataset.aggregate(group.adgroups, row_days)
                row = _row(query, group, row_days, totals, shapes)
                values = {**row["dimensions"], **row["metrics"]}
                writer.writerow([_cell(values.get(name)) for name in names])
        return out.getvalue().encode()


BUYING_TYPES_ALL = frozenset(BUYING_TYPES)
ORIGINS_ALL = frozenset(ORIGINS)


def _id_condition(item: dict[str, Any]) -> Condition:
    name = str(item["field_name"])
    if item.get("filter_type", "IN") != "IN":
        raise param_error(f"filtering: {name} takes filter_type IN in asynchronous reports.")
    value = item.get("filter_value")
    try:
        ids = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        ids = None
    if not isinstance(ids, list) or not ids:
        raise param_error(f"filtering: filter_value of {name} must be a JSON-encoded array of ids.")
    if len(ids) > MAX_ASYNC_FILTER_IDS:
        raise param_error(
            f"filtering: {name} takes at most {MAX_ASYNC_FILTER_IDS} ids, got {len(ids)}."
        )
    return Condition(name, "IN", tuple(str(i) for i in ids))


def _cell(value: Any) -> str:
    """CSV has no null: an unavailable value is an empty cell."""
    return "" if value is None else str(value)
