"""Outcomes read as data: Meltano's JSON events and dbt's run_results.json, no text patterns.

The Meltano lines are real ones (``meltano --log-format=json run tap-tiktok-ads
target-postgres`` against the simulator), shortened to the fields that matter.
"""

from __future__ import annotations

import json
from pathlib import Path

from dra_tiktok_ads.sync.dbt_results import BuildResults, logged_error, read_run_results
from dra_tiktok_ads.sync.meltano_log import LoadReport


def _tap(event: str, **fields: object) -> str:
    line = {"name": "tap-tiktok-ads", "producer": True, "consumer": False, "cmd_type": "elb"}
    return json.dumps(line | {"event": event, "level": "info"} | fields)


def _metric(plugin: str, stream: str, value: int) -> str:
    return json.dumps(
        {
            "name": plugin,
            "producer": plugin.startswith("tap-"),
            "consumer": plugin.startswith("target-"),
            "metric_info": {
                "type": "counter",
                "metric": "record_count",
                "value": value,
                "tags": {"stream": stream, "pid": 1},
            },
            "event": "METRIC",
            "level": "info",
        }
    )


def test_records_are_the_taps_record_count_metrics_not_the_targets() -> None:
    report = LoadReport()
    for line in (
        _metric("tap-tiktok-ads", "campaigns", 2),
        _metric("tap-tiktok-ads", "campaign_performance", 10),
        json.dumps(
            {
                "name": "tap-tiktok-ads",
                "producer": True,
                "event": "METRIC",
                "metric_info": {"type": "timer", "metric": "sync_duration", "value": 0.2},
            }
        ),
        _metric("target-postgres", "campaign_performance", 10),
        "not json at all: metric_name=record_count metric_value=999",
        json.dumps({"success": True, "err": None, "event": "Block run completed", "level": "info"}),
        json.dumps({"status": "success", "event": "Run completed", "level": "info"}),
    ):
        report.read(line)
    assert report.records_extracted == 12
    assert report.records_loaded == 10
    assert report.records_by_stream == {"campaigns": 2, "campaign_performance": 10}
    assert report.success is True
    assert report.error_message() is None


def test_the_taps_one_line_error_and_the_failing_step() -> None:
    report = LoadReport()
    for line in (
        _tap("An unhandled error occurred while syncing 'ad_group_performance'", level="error"),
        _tap(
            "Sync failed: TikTok code 40105 (Access token is invalid); reconnect the account",
            level="error",
        ),
        json.dumps({"event": "Extractor failed", "level": "error"}),
        json.dumps(
            {
                "success": False,
                "err": "Extractor failed",
                "exit_codes": {"extractors": 1},
                "event": "Block run completed",
                "level": "error",
            }
        ),
        json.dumps({"status": "failure", "event": "Run completed", "level": "info"}),
    ):
        report.read(line)
    assert report.success is False
    assert report.failed_steps == ["extractor"]
    assert report.error_message() == (
        "Sync failed: TikTok code 40105 (Access token is invalid); reconnect the account"
    )


def test_a_loader_failure_names_the_loader_and_its_exception() -> None:
    report = LoadReport()
    report.read(_tap("Beginning sync of 'campaigns' in full_table mode"))
    report.read(
        json.dumps(
            {
                "name": "target-postgres",
                "producer": False,
                "consumer": True,
                "level": "error",
                "event": "Loader crashed",
                "plugin_exception": {"type": "OperationalError", "message": "connection refused"},
            }
        )
    )
    report.read(
        json.dumps(
            {
                "success": False,
                "exit_codes": {"loaders": 1},
                "event": "Block run completed",
                "level": "error",
            }
        )
    )
    assert report.failed_steps == ["loader"]
    assert report.error_message() == "target-postgres: Loader crashed: connection refused"


def test_only_meltanos_own_error_is_used_when_no_plugin_said_anything() -> None:
    report = LoadReport()
    report.read(json.dumps({"event": "Cannot upgrade the system database", "level": "error"}))
    report.read(json.dumps({"event": "Run completed", "status": "failure", "level": "info"}))
    assert report.error_message() == "Cannot upgrade the system database"


def test_run_results_name_the_failing_node(tmp_path: Path) -> None:
    results = {
        "elapsed_time": 3.5,
        "results": [
            {
                "unique_id": "model.dra_tiktok_ads.stg_x",
                "status": "success",
                "message": "CREATE VIEW",
                "execution_time": 0.1,
            },
            {
                "unique_id": "model.dra_tiktok_ads.campaign_performance",
                "status": "error",
                "message": "Database Error in model campaign_performance\n  value too long",
                "execution_time": 0.4,
            },
            {
                "unique_id": "test.dra_tiktok_ads.not_null_x.abc",
                "status": "skipped",
                "message": None,
            },
            {
                "unique_id": "test.dra_tiktok_ads.assert_something",
                "status": "fail",
                "message": "Got 3 results, configured to fail if != 0",
            },
        ],
    }
    (tmp_path / "run_results.json").write_text(json.dumps(results), encoding="utf-8")
    build = read_run_results(tmp_path)
    assert build.elapsed_s == 3.5
    assert [n.name for n in build.failures] == [
        "model campaign_performance",
        "test assert_something",
    ]
    assert build.count("skipped") == 1
    message = build.error_message(1)
    assert message.startswith("the transform (dbt build) failed: model campaign_performance error:")
    assert "value too long" in message
    assert "(and 1 more failed node)" in message
    assert "\n" not in message
    # A failing dbt test alone is named too.
    only_test = BuildResults(nodes=[build.failures[1]])
    assert "test assert_something fail: Got 3 results" in only_test.error_message(1)


def test_no_run_results_falls_back_to_dbts_logged_error(tmp_path: Path) -> None:
    build = read_run_results(tmp_path)
    assert build.nodes == []
    line = json.dumps({"info": {"level": "error", "msg": "Could not connect to the database"}})
    assert logged_error(line) == "Could not connect to the database"
    assert logged_error(json.dumps({"info": {"level": "info", "msg": "Running"}})) is None
    assert logged_error("plain text") is None
    build.logged_errors.append("Could not connect to the database")
    assert "Could not connect to the database" in build.error_message(2)
    assert "dbt exited with status 2" in read_run_results(tmp_path).error_message(2)


def test_a_refusing_check_step_is_the_reason() -> None:
    # The check (dra-check:data-source) writes its refusal as command output; Meltano's block
    # event says the command block failed.
    report = LoadReport()
    refusal = (
        "tap-tiktok-ads-check refused the run: TAP_TIKTOK_ADS_DATA_SOURCE_ID='abc' is not a"
        " data source id"
    )
    for line in (
        json.dumps(
            {
                "stdio": "stderr",
                "cmd_type": "command",
                "name": "dra-check",
                "event": refusal,
                "level": "info",
            }
        ),
        json.dumps(
            {
                "block_type": "InvokerCommand",
                "success": False,
                "exit_codes": {},
                "err": "`dra-check data-source` failed with exit code: 2",
                "event": "Block run completed",
                "level": "error",
            }
        ),
        json.dumps({"status": "failure", "event": "Run completed", "level": "info"}),
    ):
        report.read(line)
    assert report.failed_steps == ["dra-check"]
    assert report.error_message() == refusal


def test_the_first_error_of_the_tap_is_its_story() -> None:
    report = LoadReport()
    report.read(_tap("page_size='abc' is not a whole number: set 1..1000", level="error"))
    report.read(_tap("Config validation failed", level="error"))
    report.read(
        json.dumps(
            {
                "success": False,
                "exit_codes": {"extractors": 1},
                "event": "Block run completed",
                "level": "error",
            }
        )
    )
    assert report.error_message() == (
        "tap-tiktok-ads: page_size='abc' is not a whole number: set 1..1000"
    )
