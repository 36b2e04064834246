"""What the report endpoint accepts, bundled (``report_matrix.json``), and the check of a report
definition against it before any request.

TikTok answers a combination it does not support with 40002 in the middle of a sync; the
matrix refuses it at start-up instead, in one line naming the report and the field. Where the
sources say nothing the matrix is the narrower choice (docs/reports.md lists the sources).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

DAY = "stat_time_day"
REPORT_KEYS = frozenset({"name", "report_type", "data_level", "dimensions", "metrics", "filters"})
HOUR = "stat_time_hour"
#: Report stream names: lowercase, as they become table names.
STREAM_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")
FILTER_TYPES = frozenset(
    {"IN", "NOT_IN", "CONTAIN_ANY_OF", "MATCH", "GREATER_EQUAL", "GREATER_THAN", "LOWER_EQUAL",
     "LOWER_THAN", "BETWEEN"}
)  # fmt: skip


@dataclass(frozen=True)
class ReportDefinition:
    """One report: a stream's request, from which its schema and keys follow."""

    name: str
    report_type: str
    data_level: str
    dimensions: tuple[str, ...]
    metrics: tuple[str, ...]
    filters: tuple[Mapping[str, Any], ...] = ()

    @property
    def time_dimension(self) -> str | None:
        return next((d for d in self.dimensions if d in (DAY, HOUR)), None)

    @property
    def lifetime(self) -> bool:
        """No time dimension: the report asks for lifetime totals (``query_lifetime``)."""
        return self.time_dimension is None

    @property
    def id_dimension(self) -> str:
        return matrix().id_dimension(self.data_level)

    @property
    def breakdown(self) -> tuple[str, ...]:
        return tuple(d for d in self.dimensions if d not in (DAY, HOUR, self.id_dimension))

    @property
    def attributes(self) -> tuple[str, ...]:
        """Requested attribute metrics (names of objects), emitted as strings."""
        allowed = matrix().attributes(self.data_level)
        return tuple(m for m in self.metrics if m in allowed)

    @property
    def measures(self) -> tuple[str, ...]:
        allowed = matrix().attributes(self.data_level)
        return tuple(m for m in self.metrics if m not in allowed)


class ReportMatrix:
    """The bundled matrix, read once."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data = data
        self.metric_types: dict[str, str] = dict(data["metric_types"])
        self.report_types: dict[str, Any] = dict(data["report_types"])

    def id_dimension(self, data_level: str) -> str:
        return str(self._data["id_dimensions"][data_level])

    def attributes(self, data_level: str) -> tuple[str, ...]:
        return tuple(self._data["attribute_metrics"].get(data_level, ()))

    def max_days(self, time_dimension: str) -> int:
        return int(self._data["time_dimensions"][time_dimension]["max_days"])

    def filter_fields(self) -> tuple[str, ...]:
        return tuple(self._data["filter_fields"])

    def problems(self, raw: object, where: str) -> list[str]:
        """Every reason the API would reject this report, one line each naming ``where`` (the
        setting and report) and the field."""
        if not isinstance(raw, Mapping):
            return [f"{where} must be an object with name, report_type, data_level, dimensions, "
                    "metrics (and optionally filters)"]  # fmt: skip
        name = raw.get("name")
        if not isinstance(name, str) or not STREAM_NAME.fullmatch(name):
            return [f"{where}: name {name!r} must be lowercase letters, digits and _ "
                    "(it becomes the stream and table name)"]  # fmt: skip
        where = f"{where} ({name})"
        header = self._header_problem(raw, where)
        if header:
            return [header]
        report_type, level = str(raw["report_type"]), str(raw["data_level"])
        errors: list[str] = []
        dimensions = _names(raw.get("dimensions"), f"{where}: dimensions", errors)
        metrics = _names(raw.get("metrics"), f"{where}: metrics", errors)
        if errors:
            return errors
        errors += self._dimension_problems(where, report_type, level, dimensions)
        time = next((d for d in dimensions if d in (DAY, HOUR)), None)
        errors += self._metric_problems(where, report_type, level, time, metrics)
        errors += self._filter_problems(where, raw.get("filters"))
        return errors

    def _header_problem(self, raw: Mapping[str, Any], where: str) -> str | None:
        """Unknown fields, report type and data level: the first wrong one."""
        unknown = sorted(set(raw) - REPORT_KEYS)
        if unknown:
            return (
                f"{where}: {', '.join(unknown)} is not a report field; use "
                f"{', '.join(sorted(REPORT_KEYS))}"
            )
        report_type, level = str(raw.get("report_type")), str(raw.get("data_level"))
        if report_type not in self.report_types:
            return (
                f"{where}: report_type {report_type!r} is not one of {', '.join(self.report_types)}"
            )
        levels = self.report_types[report_type]["data_levels"]
        if level not in levels:
            return (
                f"{where}: data_level {level!r} is not available in {report_type} reports; "
                f"use one of {', '.join(levels)}"
            )
        return None

    def _dimension_problems(
        self, where: str, report_type: str, level: str, dimensions: list[str]
    ) -> list[str]:
        spec = self.report_types[report_type]
        id_dimension = self.id_dimension(level)
        breakdown_names = {name for allowed in spec["breakdowns"] for name in allowed}
        allowed = {id_dimension, *spec["time_dimensions"], *breakdown_names}
        for name in dimensions:
            if name not in allowed:
                why = (
                    f"is not a time dimension of {report_type} reports"
                    if name in (DAY, HOUR)
                    else f"is not a dimension of {report_type} reports at {level}"
                )
                return [f"{where}: dimension {name} {why}; allowed: {', '.join(sorted(allowed))}"]
        if id_dimension not in dimensions:
            return [f"{where}: dimensions must include {id_dimension}, the id of {level} rows "
                    "(it is part of the stream's key)"]  # fmt: skip
        times = [d for d in dimensions if d in (DAY, HOUR)]
        if len(times) > 1:
            return [f"{where}: dimensions {' and '.join(times)} cannot be combined; use one"]
        if not times and not spec["lifetime"]:
            return [f"{where}: dimensions need {' or '.join(spec['time_dimensions'])}"]
        breakdown = sorted(d for d in dimensions if d in breakdown_names)
        combos = [sorted(c) for c in spec["breakdowns"]]
        if combos and breakdown not in combos:
            shown = "; ".join("+".join(c) for c in spec["breakdowns"])
            got = "+".join(breakdown) or "none"
            return [f"{where}: dimensions: {report_type} reports need one audience breakdown of "
                    f"{shown}; got {got}"]  # fmt: skip
        return []

    def _metric_problems(
        self, where: str, report_type: str, level: str, time: str | None, metrics: list[str]
    ) -> list[str]:
        spec = self.report_types[report_type]
        attributes = self.attributes(level)
        allowed = {*spec["metrics"], *attributes}
        for name in metrics:
            restricted = spec["restricted_metrics"].get(name)
            if name in allowed:
                continue
            if restricted is not None:
                if (
                    level not in restricted["data_levels"]
                    or time not in restricted["time_dimensions"]
                ):
                    return [
                        f"{where}: metric {name} is only available at "
                        f"{', '.join(restricted['data_levels'])} with "
                        f"{', '.join(restricted['time_dimensions'])}"
                    ]
                continue
            other_level = [
                lvl for lvl, names in self._data["attribute_metrics"].items() if name in names
            ]
            if other_level:
                why = f"is an attribute of {', '.join(other_level)} rows, not {level}"
            elif name in self.metric_types:
                why = f"is not available in {report_type} reports"
            else:
                why = (
                    "is not a metric of the report API (it is 'conversion', singular)"
                    if (name == "conversions")
                    else "is not a metric of the report API"
                )
            return [f"{where}: metric {name} {why}; see docs/reports.md for the matrix"]
        return []

    def _filter_problems(self, where: str, filters: object) -> list[str]:
        if filters is None:
            return []
        if not isinstance(filters, list):
            return [f"{where}: filters must be a list of {{field_name, filter_type, filter_value}}"]
        found = (self._filter_problem(item) for item in filters)
        return [f"{where}: filters[{i}] {problem}" for i, problem in enumerate(found) if problem][
            :1
        ]

    def _filter_problem(self, item: object) -> str | None:
        if not isinstance(item, Mapping):
            return "must be an object"
        field = item.get("field_name")
        if field not in self.filter_fields():
            return (
                f"field_name {field!r} is not one the tap passes on; use one of "
                f"{', '.join(self.filter_fields())}"
            )
        if item.get("filter_type", "IN") not in FILTER_TYPES:
            return (
                f"filter_type {item.get('filter_type')!r} is not one of "
                f"{', '.join(sorted(FILTER_TYPES))}"
            )
        if item.get("filter_value") in (None, "", []):
            return "needs a filter_value"
        return None

    def definition(self, raw: Mapping[str, Any]) -> ReportDefinition:
        """A checked report (``problems`` empty) as a definition."""
        filters = []
        for item in raw.get("filters") or []:
            value = item["filter_value"]
            filters.append(
                {
                    "field_name": item["field_name"],
                    "filter_type": item.get("filter_type", "IN"),
                    # The API takes list values JSON-encoded inside the filter object.
                    "filter_value": json.dumps(value) if isinstance(value, list) else str(value),
                }
            )
        return ReportDefinition(
            name=raw["name"],
            report_type=raw["report_type"],
            data_level=raw["data_level"],
            dimensions=tuple(raw["dimensions"]),
            metrics=tuple(raw["metrics"]),
            filters=tuple(filters),
        )


def _names(value: object, where: str, errors: list[str]) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        errors.append(f"{where} must be a non-empty list of names")
        return []
    if len(set(value)) != len(value):
        errors.append(f"{where} names one twice")
    return list(value)


@cache
def matrix() -> ReportMatrix:
    text = files("tap_tiktok_ads").joinpath("report_matrix.json").read_text(encoding="utf-8")
    return ReportMatrix(json.loads(text))


def custom_report_problems(reports: object, reserved: Sequence[str] = ()) -> list[str]:
    """The ``custom_reports`` setting checked: one line per bad report."""
    if reports is None:
        return []
    if not isinstance(reports, list):
        return ["custom_reports must be a JSON array of report objects (see docs/reports.md)"]
    errors: list[str] = []
    seen: set[str] = set()
    for position, raw in enumerate(reports):
        where = f"custom_reports[{position}]"
        found = matrix().problems(raw, where)
        errors += found
        name = raw.get("name") if isinstance(raw, Mapping) else None
        if not found and name in reserved:
            errors.append(f"{where} ({name}): name is a built-in stream's; choose another")
        elif not found and name in seen:
            errors.append(f"{where} ({name}): name is used by an earlier custom report")
        if isinstance(name, str):
            seen.add(name)
    return errors
