"""The bundled report matrix: what it accepts, and one line naming report and field for what
it refuses (unit tests; the same checks over HTTP are in test_defined_reports.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tap_tiktok_ads.report_matrix import custom_report_problems, matrix
from tap_tiktok_ads.settings import parse_text_settings
from tap_tiktok_ads.streams import STREAM_TYPES, VARIANT_BASES, reserved_stream_names
from tap_tiktok_ads.streams.defined_reports import (
    DefinedReportStream,
    configured_report_streams,
    key_fields,
)

GOOD: dict[str, Any] = {
    "name": "campaign_by_language",
    "report_type": "AUDIENCE",
    "data_level": "AUCTION_CAMPAIGN",
    "dimensions": ["campaign_id", "stat_time_day", "language"],
    "metrics": ["campaign_name", "spend", "impressions", "conversion"],
}


def raw_of(stream: type[DefinedReportStream]) -> dict[str, Any]:
    d = stream.definition
    return {
        "name": d.name,
        "report_type": d.report_type,
        "data_level": d.data_level,
        "dimensions": list(d.dimensions),
        "metrics": list(d.metrics),
    }


def test_every_built_in_and_variant_report_is_one_the_matrix_accepts():
    defined = [s for s in STREAM_TYPES if issubclass(s, DefinedReportStream)]
    variants = configured_report_streams(
        {"hourly_reports": True, "lifetime_reports": True}, VARIANT_BASES
    )
    assert len(defined) == 6
    assert len(variants) == 4
    for stream in [*defined, *variants]:
        assert matrix().problems(raw_of(stream), stream.name) == [], stream.name


def test_audience_streams_are_not_selected_by_default_and_key_on_their_dimensions():
    audience = {s.name: s for s in STREAM_TYPES if issubclass(s, DefinedReportStream)}
    assert not any(s.selected_by_default for s in audience.values())
    assert audience["campaign_audience_by_age_gender"].primary_keys == [
        "advertiser_id",
        "campaign_id",
        "stat_date",
        "age",
        "gender",
    ]
    assert audience["ad_group_audience_by_platform"].primary_keys == [
        "advertiser_id",
        "adgroup_id",
        "stat_date",
        "platform",
    ]
    # Only the metrics AUDIENCE reports allow: no reach, video or engagement metrics.
    schema = audience["campaign_audience_by_country"].schema["properties"]
    assert "spend" in schema
    assert not {"reach", "frequency", "video_play_actions", "likes"} & set(schema)


def test_a_good_custom_report_passes_and_gets_a_typed_schema_and_key():
    assert custom_report_problems([GOOD]) == []
    (stream,) = configured_report_streams({"custom_reports": [GOOD]}, VARIANT_BASES)
    assert stream.name == "campaign_by_language"
    assert stream.selected_by_default
    assert stream.primary_keys == ["advertiser_id", "campaign_id", "stat_date", "language"]
    assert stream.replication_key == "stat_date"
    properties = stream.schema["properties"]
    assert properties["spend"]["type"] == ["number", "null"]
    assert properties["impressions"]["type"] == ["integer", "null"]
    assert properties["campaign_name"]["type"] == ["string", "null"]
    assert properties["stat_date"]["format"] == "date"


def test_hourly_and_lifetime_keys():
    hourly = {**GOOD, "report_type": "BASIC", "dimensions": ["campaign_id", "stat_time_hour"]}
    lifetime = {**GOOD, "report_type": "BASIC", "dimensions": ["campaign_id"]}
    assert custom_report_problems([hourly, {**lifetime, "name": "life"}]) == []
    hourly_stream, lifetime_stream = configured_report_streams(
        {"custom_reports": [hourly, {**lifetime, "name": "life"}]}, VARIANT_BASES
    )
    assert key_fields(hourly_stream.definition) == [
        "advertiser_id",
        "campaign_id",
        "stat_date",
        "stat_hour",
    ]
    assert lifetime_stream.primary_keys == ["advertiser_id", "campaign_id"]
    assert lifetime_stream.replication_key is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"metrics": ["spend", "reach"]}, "metric reach is not available in AUDIENCE"),
        ({"metrics": ["video_play_actions"]}, "metric video_play_actions"),
        ({"metrics": ["conversions"]}, "'conversion', singular"),
        ({"metrics": ["adgroup_name"]}, "metric adgroup_name is an attribute of AUCTION_ADGROUP"),
        ({"metrics": []}, "metrics must be a non-empty list"),
        ({"dimensions": ["campaign_id", "stat_time_hour", "age"]}, "stat_time_hour is not a time"),
        ({"dimensions": ["campaign_id", "stat_time_day"]}, "need one audience breakdown"),
        ({"dimensions": ["campaign_id", "stat_time_day", "age", "platform"]}, "got age+platform"),
        ({"dimensions": ["adgroup_id", "stat_time_day", "age"]}, "dimension adgroup_id"),
        ({"dimensions": ["stat_time_day", "age"]}, "must include campaign_id"),
        ({"dimensions": ["campaign_id", "stat_time_day", "stat_time_day"]}, "names one twice"),
        ({"data_level": "AUCTION_SHOP"}, "data_level 'AUCTION_SHOP'"),
        ({"report_type": "PLAYABLE_MATERIAL"}, "report_type 'PLAYABLE_MATERIAL'"),
        ({"name": "Bad Name"}, "name 'Bad Name'"),
        (
            {"filters": [{"field_name": "buying_type", "filter_value": "x"}]},
            "filters[0] field_name",
        ),
        ({"filters": [{"field_name": "campaign_ids"}]}, "filters[0] needs a filter_value"),
        ({"filters": "campaign_ids"}, "filters must be a list"),
        ({"filter": []}, "filter is not a report field"),
    ],
)
def test_a_bad_custom_report_is_one_line_naming_report_and_field(change, field):
    problems = custom_report_problems([GOOD, {**GOOD, "name": "second", **change}])
    assert len(problems) == 1, problems
    (line,) = problems
    assert line.startswith("custom_reports[1]"), line
    assert "\n" not in line
    assert field in line
    if "name" not in change:
        assert "(second)" in line


def test_basic_only_metrics_follow_their_level_and_time():
    advertiser = {
        "name": "spend_sources",
        "report_type": "BASIC",
        "data_level": "AUCTION_ADVERTISER",
        "dimensions": ["advertiser_id", "stat_time_day"],
        "metrics": ["spend", "cash_spend", "voucher_spend"],
    }
    assert custom_report_problems([advertiser]) == []
    hourly = {**advertiser, "dimensions": ["advertiser_id", "stat_time_hour"]}
    (line,) = custom_report_problems([hourly])
    assert "cash_spend is only available at AUCTION_ADVERTISER with stat_time_day" in line
    campaign = {**advertiser, "data_level": "AUCTION_CAMPAIGN", "dimensions": ["campaign_id"]}
    assert "cash_spend" in custom_report_problems([campaign])[0]


def test_names_of_built_in_streams_and_repeats_are_refused():
    reserved = reserved_stream_names()
    assert "campaign_performance_hourly" in reserved
    (line,) = custom_report_problems([{**GOOD, "name": "campaign_performance"}], reserved)
    assert "custom_reports[0] (campaign_performance): name is a built-in stream's" in line
    (line,) = custom_report_problems([GOOD, GOOD], reserved)
    assert line.startswith("custom_reports[1] (campaign_by_language): name is used")


def test_custom_reports_from_the_environment_are_parsed_as_objects():
    config: dict[str, Any] = {"custom_reports": '[{"name": "x", "metrics": ["spend"]}]'}
    assert parse_text_settings(config) == []
    assert config["custom_reports"] == [{"name": "x", "metrics": ["spend"]}]
    config = {"custom_reports": "[{broken"}
    (line,) = parse_text_settings(config)
    assert line.startswith("custom_reports '[{broken' is not valid JSON")
    assert "TAP_TIKTOK_ADS_CUSTOM_REPORTS" in line
