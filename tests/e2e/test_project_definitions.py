"""meltano.yml, the Hub definition and .env.example agree with the tap and with each other."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tap_tiktok_ads.streams import STREAM_TYPES
from tests.e2e.harness import MELTANO, REPO_ROOT, scratch_system_db

HUB_DEFINITION = REPO_ROOT / "hub/extractors/tap-tiktok-ads/dra.yml"
TAP = str(Path(sys.executable).parent / "tap-tiktok-ads")
# Settings every Singer SDK tap has; not worth a line each in .env.example.
SDK_SETTINGS = {"stream_maps", "stream_map_config", "faker_config", "flattening_enabled",
                "flattening_max_depth", "flattening_max_key_length", "flattening_separator",
                "batch_config"}  # fmt: skip
# The tap's own boolean, number and array settings are declared `kind: string`: the tap
# parses the text and refuses what it cannot read, where Meltano's casting reads "maybe" as
# false and crashes on "abc" (tap_tiktok_ads/settings.py, parse_text_settings).
KIND_OF_JSON_TYPE = {
    "string": {"string", "date_iso8601"},
    "array": {"array", "string"},
    "integer": {"integer", "string"},
    "number": {"string"},
    "boolean": {"boolean", "string"},
    "object": {"object"},
}


def load_yaml(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def project() -> dict[str, Any]:
    return load_yaml(REPO_ROOT / "meltano.yml")


@pytest.fixture(scope="module")
def about() -> dict[str, Any]:
    """What the tap itself declares (`--about`): settings and capabilities."""
    result = subprocess.run(
        [TAP, "--about", "--format=json"], capture_output=True, text=True, check=True
    )
    data: dict[str, Any] = json.loads(result.stdout)
    return data


@pytest.fixture(scope="module")
def tap_plugin(project: dict[str, Any]) -> dict[str, Any]:
    (tap,) = project["plugins"]["extractors"]
    return tap


def test_every_tap_setting_is_declared_with_its_kind_and_secrecy(
    tap_plugin: dict[str, Any], about: dict[str, Any]
):
    declared = {setting["name"]: setting for setting in tap_plugin["settings"]}
    schema = about["settings"]["properties"]
    assert set(declared) == set(schema)
    assert set(tap_plugin["capabilities"]) == set(about["capabilities"])
    for name, prop in schema.items():
        json_type = next(t for t in prop["type"] if t != "null")
        assert declared[name]["kind"] in KIND_OF_JSON_TYPE[json_type], name
        assert bool(declared[name].get("sensitive")) == bool(prop.get("secret")), name
        assert declared[name].get("description"), name


def test_hub_definition_matches_the_project(tap_plugin: dict[str, Any]):
    hub = load_yaml(HUB_DEFINITION)
    assert hub["label"] == "TikTok Ads"
    assert hub["namespace"] == tap_plugin["namespace"]
    assert hub["capabilities"] == tap_plugin["capabilities"]
    assert hub["description"]
    assert hub["keywords"]
    assert (REPO_ROOT / "hub/logos/tiktok-ads.png").stat().st_size > 0
    project_settings = {s["name"]: s for s in tap_plugin["settings"]}
    for setting in hub["settings"]:
        assert setting.keys() >= {"name", "kind", "label", "description", "sensitive"}
        mine = project_settings[setting["name"]]
        assert setting["kind"] == mine["kind"], setting["name"]
        assert setting["sensitive"] == bool(mine.get("sensitive")), setting["name"]
    assert [s["name"] for s in hub["settings"]] == list(project_settings)


def test_stream_maps_stamp_data_source_id_on_every_default_stream(tap_plugin: dict[str, Any]):
    maps = tap_plugin["config"]["stream_maps"]
    platform_streams = [stream for stream in STREAM_TYPES if stream.selected_by_default]
    assert set(maps) == {stream.name for stream in platform_streams}
    for stream in platform_streams:
        assert maps[stream.name]["data_source_id"] == "int(config['data_source_id'])"
        assert maps[stream.name]["__key_properties__"] == ["data_source_id", *stream.primary_keys]
    assert tap_plugin["config"]["stream_map_config"] == {
        "data_source_id": "$TAP_TIKTOK_ADS_DATA_SOURCE_ID"
    }


def test_loader_reads_libpq_variables_and_fast_load_settings(project: dict[str, Any]):
    (target,) = project["plugins"]["loaders"]
    assert target["pip_url"] == "meltanolabs-target-postgres==0.8.1"
    config = target["config"]
    assert {k: config[k] for k in ("host", "port", "user", "password", "database")} == {
        "host": "$PGHOST",
        "port": "$PGPORT",
        "user": "$PGUSER",
        "password": "$PGPASSWORD",
        "database": "$PGDATABASE",
    }
    assert config["default_target_schema"] == "tiktok_ads"
    assert config["use_copy"] is True
    assert config["validate_records"] is False
    declared = {s["name"] for s in target["settings"]}
    assert set(config) <= declared


def test_env_example_lists_every_variable(about: dict[str, Any]):
    text = (REPO_ROOT / ".env.example").read_text(encoding="utf-8")
    names = {line.lstrip("#").split("=", 1)[0] for line in text.splitlines() if "=" in line}
    tap_settings = set(about["settings"]["properties"]) - SDK_SETTINGS
    required = {f"TAP_TIKTOK_ADS_{name.upper()}" for name in tap_settings} | {
        "TAP_TIKTOK_ADS_DATA_SOURCE_ID",
        "TIKTOK_ADS_APP_ID",
        "TIKTOK_ADS_APP_SECRET",
        "TIKTOK_ADS_REDIRECT_URI",
        "ENCRYPTION_KEY",
        *(f"PG{part}" for part in ("HOST", "PORT", "USER", "PASSWORD", "DATABASE")),
    }
    assert required <= names


def test_schedule_and_job_are_listed(meltano_plugins: None):
    result = subprocess.run(
        [MELTANO, "schedule", "list", "--format=json"],
        cwd=REPO_ROOT,
        env=scratch_system_db(),
        capture_output=True,
        text=True,
        check=True,
    )
    schedules = json.loads(result.stdout)
    (daily,) = [s for s in schedules["schedules"]["job"] if s["name"] == "tiktok-ads-daily"]
    assert daily["interval"] == "@daily"
    assert daily["job"]["tasks"] == [
        "dra-check:data-source tap-tiktok-ads target-postgres dbt-postgres:build"
    ]


def test_hub_definition_adds_offline_with_from_ref(tmp_path: Path):
    (tmp_path / "meltano.yml").write_text(
        "default_environment: dev\nenvironments:\n- name: dev\nsend_anonymous_usage_stats: false\n",
        encoding="utf-8",
    )
    subprocess.run(
        [MELTANO, "add", "extractor", "tap-tiktok-ads", "--from-ref", str(HUB_DEFINITION),
         "--no-install"],
        cwd=tmp_path, capture_output=True, text=True, check=True,
    )  # fmt: skip
    added = load_yaml(tmp_path / "meltano.yml")["plugins"]["extractors"][0]
    assert added["name"] == "tap-tiktok-ads"
    assert added["namespace"] == "tap_tiktok_ads"
    assert len(added["settings"]) == len(load_yaml(HUB_DEFINITION)["settings"])
