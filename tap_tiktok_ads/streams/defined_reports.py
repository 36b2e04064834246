"""Report streams defined by a ``ReportDefinition``: the audience streams, the hourly and
lifetime variants (settings ``hourly_reports``, ``lifetime_reports``) and ``custom_reports``.

They share the daily streams' machinery (windows, look-ahead, splitting, bookmarks); what
differs follows from the definition: the request, the schema (typed from the report matrix),
the key (from the dimensions) and the windows (hourly: one day per request; lifetime: one
request, no bookmark).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any, ClassVar

from singer_sdk import typing as th
from singer_sdk.helpers.types import Context

from tap_tiktok_ads import schemas
from tap_tiktok_ads.client import utc_now
from tap_tiktok_ads.pagination import RawPage
from tap_tiktok_ads.report_matrix import DAY, HOUR, ReportDefinition, matrix
from tap_tiktok_ads.report_queries import ReportQuery, report_filtering
from tap_tiktok_ads.streams.reports import REPORT_PATH, ReportStream
from tap_tiktok_ads.values import LOGGER, report_day
from tap_tiktok_ads.windows import DateWindow, date_windows

#: The report filter that keeps deleted objects, by data level (none at advertiser level).
STATUS_FILTER_FIELD = {
    "AUCTION_CAMPAIGN": "campaign_status",
    "AUCTION_ADGROUP": "adgroup_status",
    "AUCTION_AD": "ad_status",
}
#: The attribute that names a row's object, by data level.
NAME_ATTRIBUTE = {
    "AUCTION_ADVERTISER": "advertiser_name",
    "AUCTION_CAMPAIGN": "campaign_name",
    "AUCTION_ADGROUP": "adgroup_name",
    "AUCTION_AD": "ad_name",
}
_DIMENSION_DESCRIPTIONS = {
    "age": "Age group, e.g. AGE_25_34.",
    "gender": "Gender: MALE, FEMALE or NONE (unknown).",
    "country_code": "Country or region code (ISO 3166-1 alpha-2).",
    "platform": "Device platform, e.g. ANDROID, IPHONE.",
    "language": "Device language code.",
    "ac": "Network connection type, e.g. WIFI, 4G.",
}


def key_fields(definition: ReportDefinition) -> list[str]:
    """The record key: advertiser, the dimensions (times as ``stat_date``/``stat_hour``)."""
    keys = ["advertiser_id"]
    for name in definition.dimensions:
        if name == DAY:
            keys.append("stat_date")
        elif name == HOUR:
            keys += ["stat_date", "stat_hour"]
        elif name not in keys:
            keys.append(name)
    return keys


def report_schema(definition: ReportDefinition) -> dict[str, Any]:
    """The stream's schema, typed from the report matrix."""
    types = matrix().metric_types
    properties: list[th.Property[Any]] = [schemas.ADVERTISER_ID]
    for name in key_fields(definition)[1:]:
        if name == "stat_date":
            properties.append(schemas.STAT_DATE)
        elif name == "stat_hour":
            properties.append(
                th.Property(
                    "stat_hour",
                    th.IntegerType(),
                    required=True,
                    description="Hour of the day (0-23) in the advertiser's time zone.",
                )
            )
        else:
            text = _DIMENSION_DESCRIPTIONS.get(name, f"The report's {name}.")
            properties.append(th.Property(name, th.StringType(), required=True, description=text))
    properties += [
        th.Property(name, th.StringType(), description="Attribute as the report gives it.")
        for name in definition.attributes
        if name not in key_fields(definition)
    ]
    properties += [
        th.Property(
            name,
            th.IntegerType() if types[name] == schemas.INTEGER else th.NumberType(),
            description="Null where the API reports '-'.",
        )
        for name in definition.measures
    ]
    return th.PropertiesList(*properties).to_dict()


class DefinedReportStream(ReportStream):
    """A report stream whose request, schema and key come from its ``definition``."""

    definition: ClassVar[ReportDefinition]
    path = REPORT_PATH

    def windows_for(self, advertiser_id: str, context: Context) -> list[DateWindow]:
        if self.definition.lifetime:
            # One query covers the object's whole life; the window only names the run's day.
            today = utc_now().astimezone(self._tap.advertisers.timezone(advertiser_id)).date()
            return [DateWindow(today, today)]
        windows = super().windows_for(advertiser_id, context)
        days = matrix().max_days(self.definition.time_dimension or DAY)
        return [part for w in windows for part in date_windows(w.start, w.end, days)]

    def _request_page(self, advertiser_id: str, query: ReportQuery, page: int) -> RawPage:
        definition = self.definition
        status_field = STATUS_FILTER_FIELD.get(definition.data_level)
        filtering = report_filtering(
            status_field or "",
            include_deleted=bool(self.config["include_deleted"]) and status_field is not None,
            query=query,
        )
        params: dict[str, Any] = {
            "advertiser_id": advertiser_id,
            "report_type": definition.report_type,
            "data_level": definition.data_level,
            "dimensions": list(definition.dimensions),
            "metrics": list(definition.metrics),
            "page": page,
            "page_size": self.config["page_size"],
            "filtering": [*filtering, *definition.filters],
        }
        if definition.lifetime:
            params["query_lifetime"] = "true"
        else:
            params["start_date"] = query.window.start.isoformat()
            params["end_date"] = query.window.end.isoformat()
        return RawPage.of(
            self.fetch_response(REPORT_PATH, params, {"advertiser_id": advertiser_id})
        )

    def _rows(self, page: RawPage, seen: set[Any]) -> Iterator[dict[str, Any]]:
        """Flatten ``{dimensions, metrics}``; drop rows without a key part, and repeats."""
        definition = self.definition
        keys = key_fields(definition)[1:]
        parsers = self._metric_parsers
        for row in page.rows():
            dimensions = row.get("dimensions") or {}
            record: dict[str, Any] = {}
            for name in definition.dimensions:
                value = dimensions.get(name)
                if value in (None, ""):
                    break
                if name == DAY:
                    record["stat_date"] = report_day(str(value))
                elif name == HOUR:
                    # "2026-11-01 13:00:00", advertiser-local: the day and the hour in it.
                    record["stat_date"] = report_day(str(value))
                    record["stat_hour"] = int(str(value)[11:13])
                else:
                    record[name] = str(value)
            else:
                key = tuple(record[name] for name in keys)
                if key in seen:
                    LOGGER.warning("Skipping a repeated %s row: %r", self.name, dimensions)
                    continue
                seen.add(key)
                metrics = row.get("metrics") or {}
                for name in definition.attributes:
                    if name not in record:
                        value = metrics.get(name)
                        record[name] = None if value in (None, "-") else str(value)
                for name, parse in parsers:
                    record[name] = parse(name, metrics.get(name))
                yield record
                continue
            LOGGER.warning(
                "Skipping a %s row without all its dimensions: %r", self.name, dimensions
            )

    def _checkpoint(self, context: Context, last_day: date) -> None:
        if not self.definition.lifetime:  # lifetime totals are re-read whole on every run
            super()._checkpoint(context, last_day)


def defined_report_stream(
    definition: ReportDefinition, *, selected_by_default: bool
) -> type[DefinedReportStream]:
    """A stream class for one report definition."""
    types = matrix().metric_types
    level = definition.data_level
    name_attribute = NAME_ATTRIBUTE[level]
    attributes: dict[str, Any] = {
        "__doc__": f"{definition.report_type} report {definition.name} ({level}).",
        "name": definition.name,
        "definition": definition,
        "schema": report_schema(definition),
        "primary_keys": key_fields(definition),
        "replication_key": None if definition.lifetime else "stat_date",
        "selected_by_default": selected_by_default,
        "data_level": level,
        "id_field": definition.id_dimension,
        "status_filter_field": STATUS_FILTER_FIELD.get(level, ""),
        "attribute_fields": list(definition.attributes),
        # The unnamed-row count needs a field every row has: the name attribute when
        # requested, else the id (never missing: rows without it are dropped).
        "name_field": (
            name_attribute if name_attribute in definition.attributes else definition.id_dimension
        ),
        "splits_campaigns": level == "AUCTION_ADGROUP",
        "metric_types": {name: types[name] for name in definition.measures},
    }
    class_name = "".join(part.title() for part in definition.name.split("_")) + "Stream"
    return type(class_name, (DefinedReportStream,), attributes)


# ----- the audience streams (not selected by default) --------------------------------------

_AUDIENCE_METRICS = tuple(matrix().report_types["AUDIENCE"]["metrics"])
_AUDIENCE_BREAKDOWNS = {
    "by_age_gender": ("age", "gender"),
    "by_country": ("country_code",),
    "by_platform": ("platform",),
}
_LEVELS = {
    "campaign": ("AUCTION_CAMPAIGN", ("campaign_name",)),
    "ad_group": ("AUCTION_ADGROUP", ("campaign_id", "adgroup_name")),
}


def _audience_stream(level_name: str, breakdown: str) -> type[DefinedReportStream]:
    level, names = _LEVELS[level_name]
    definition = ReportDefinition(
        name=f"{level_name}_audience_{breakdown}",
        report_type="AUDIENCE",
        data_level=level,
        dimensions=(
            matrix().id_dimension(level),
            DAY,
            *_AUDIENCE_BREAKDOWNS[breakdown],
        ),
        metrics=(*names, *_AUDIENCE_METRICS),
    )
    return defined_report_stream(definition, selected_by_default=False)


AUDIENCE_STREAM_TYPES: list[type[DefinedReportStream]] = [
    _audience_stream(level_name, breakdown)
    for level_name in _LEVELS
    for breakdown in _AUDIENCE_BREAKDOWNS
]


# ----- variants and custom reports, from settings ------------------------------------------


def _variant(base: type[ReportStream], suffix: str, time: str | None) -> ReportDefinition:
    return ReportDefinition(
        name=f"{base.name}_{suffix}",
        report_type="BASIC",
        data_level=base.data_level,
        dimensions=(base.id_field, time) if time else (base.id_field,),
        metrics=(*base.attribute_fields, *base.metric_types),
    )


def configured_report_streams(
    config: Mapping[str, Any], daily: list[type[ReportStream]]
) -> list[type[DefinedReportStream]]:
    """The streams settings ask for: hourly and lifetime variants of the daily BASIC report
    streams, and each custom report. Selected by default, since a setting asked for them."""
    definitions: list[ReportDefinition] = []
    if config.get("hourly_reports"):
        definitions += [_variant(base, "hourly", HOUR) for base in daily]
    if config.get("lifetime_reports"):
        definitions += [_variant(base, "lifetime", None) for base in daily]
    definitions += [matrix().definition(raw) for raw in config.get("custom_reports") or []]
    return [defined_report_stream(d, selected_by_default=True) for d in definitions]
