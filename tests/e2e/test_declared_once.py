"""Declared once, in the tap: its stream list and its setting defaults. Every other place
that names them either reads them from the tap or is checked against it here."""

from __future__ import annotations

import subprocess
from datetime import date
from typing import Any

import pytest

from benchmarks import expected
from benchmarks.sizes import SIZES
from tap_tiktok_ads.settings import CONFIG_SCHEMA
from tap_tiktok_ads.streams import STREAM_TYPES, default_stream_names
from tests.e2e.harness import REPO_ROOT
from tests.e2e.test_project_definitions import HUB_DEFINITION, TAP, load_yaml

DEFAULT_STREAMS = default_stream_names()
SCHEMA_DEFAULTS = {
    name: prop["default"] for name, prop in CONFIG_SCHEMA["properties"].items() if "default" in prop
}


@pytest.fixture(scope="module")
def tap_plugin() -> dict[str, Any]:
    (tap,) = load_yaml(REPO_ROOT / "meltano.yml")["plugins"]["extractors"]
    return tap


def test_the_default_streams_are_the_taps_selected_streams():
    assert tuple(s.name for s in STREAM_TYPES if s.selected_by_default) == DEFAULT_STREAMS
    assert len(set(DEFAULT_STREAMS)) == len(DEFAULT_STREAMS) > 0


def test_dbt_sources_declare_one_raw_table_per_default_stream():
    sources = load_yaml(REPO_ROOT / "transform/models/sources.yml")["sources"]
    (raw,) = [source for source in sources if source["name"] == "tiktok_ads"]
    tables = [table["name"] for table in raw["tables"] if "config" not in table]
    assert sorted(tables) == sorted(DEFAULT_STREAMS)
    # Other streams' tables are declared only when a dbt var turns their models on.
    extra = [table for table in raw["tables"] if "config" in table]
    assert all(
        table["config"] == {"enabled": "{{ var('tiktok_ads_extra_streams', false) }}"}
        for table in extra
    )
    assert {table["name"] for table in extra} <= {s.name for s in STREAM_TYPES} - set(
        DEFAULT_STREAMS
    )
    # run_start.sql reads each table's identifier: it must be the stream's table name.
    assert all("identifier" not in table for table in raw["tables"])


def test_the_transform_reads_its_raw_table_list_from_the_dbt_sources():
    """run_start.sql checks the raw tables exist; its list is the sources graph, so it is not
    written a second time (tests/transform checks the message names a missing table)."""
    macros = (REPO_ROOT / "transform/macros/run_start.sql").read_text(encoding="utf-8")
    assert "graph.sources.values()" in macros
    assert "source.source_name == 'tiktok_ads'" in macros
    written_again = [name for name in DEFAULT_STREAMS if f"'{name}'" in macros]
    assert written_again == []


def test_meltano_selects_and_stamps_exactly_the_default_streams(tap_plugin: dict[str, Any]):
    assert tap_plugin["select"] == [f"{name}.*" for name in DEFAULT_STREAMS]
    assert list(tap_plugin["config"]["stream_maps"]) == list(DEFAULT_STREAMS)


def test_the_benchmarks_count_requests_for_exactly_the_default_streams():
    assert expected.STREAMS == DEFAULT_STREAMS
    size = SIZES["small"]
    minimum = expected.minimum_requests(size, size.first_day, date(2026, 6, 30), date(2026, 6, 30))
    assert set(minimum) == set(DEFAULT_STREAMS)
    assert all(count > 0 for count in minimum.values()), minimum


def test_meltano_yml_repeats_no_setting_default(tap_plugin: dict[str, Any]):
    """The tap applies its schema's defaults itself, so Meltano needs none of them."""
    assert SCHEMA_DEFAULTS["lookback_days"] == 7  # the schema is where defaults live
    with_value = [s["name"] for s in tap_plugin["settings"] if "value" in s]
    assert with_value == []
    assert set(tap_plugin["config"]).isdisjoint(SCHEMA_DEFAULTS)


def test_the_hub_definitions_defaults_are_the_taps():
    """Meltano Hub shows a setting's `value` as its default; each must be the tap's."""
    hub_settings = load_yaml(HUB_DEFINITION)["settings"]
    assert {s["name"]: s["value"] for s in hub_settings if "value" in s} == SCHEMA_DEFAULTS


def test_the_readme_settings_table_is_the_taps_about_output():
    """The README's settings table (defaults included) is `--about --format=markdown`."""
    about = subprocess.run(
        [TAP, "--about", "--format=markdown"], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    for name in CONFIG_SCHEMA["properties"]:
        (row,) = [line for line in about if line.startswith(f"| {name} |")]
        assert row in readme, name
    assert "| lookback_days | False | 7 |" in "\n".join(readme)
