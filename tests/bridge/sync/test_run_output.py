"""Reading a run's output: the error line that explains it, the records it extracted."""

from __future__ import annotations

import pytest

from dra_tiktok_ads.sync.run_output import error_in_line, record_count_in_line


def test_error_line_prefers_the_taps_sync_failed_line() -> None:
    line = (
        "2026-03-01T10:00:00Z [info     ] tap-tiktok-ads 2026-03-01 10:00:00,000 | ERROR    |"
        " tap-tiktok-ads | Sync failed: TikTok code 40105 (Access token is invalid);"
        " reconnect the account cmd_type=elb consumer=False name=tap-tiktok-ads"
    )
    assert error_in_line(line) == (
        "Sync failed: TikTok code 40105 (Access token is invalid); reconnect the account"
    )


def test_error_line_names_a_failing_dbt_test() -> None:
    line = (
        "2026-03-01T10:00:00Z [info     ] dbt-postgres \x1b[0m10:17:48  \x1b[31mFailure in test"
        " assert_something (tests/assert_something.sql)\x1b[0m"
    )
    message = error_in_line(line)
    assert message is not None
    assert "dbt build" in message
    assert "assert_something" in message


@pytest.mark.parametrize(
    ("line", "count"),
    [
        ("[info ] tap-tiktok-ads METRIC  metric_name=record_count metric_value=30", 30),
        ("[info ] tap-tiktok-ads METRIC  metric_name=sync_duration metric_value=0.12", 0),
        (
            'METRIC: {"type": "counter", "metric": "record_count", "value": 7,'
            ' "tags": {"stream": "campaigns"}}',
            7,
        ),
        ("nothing here", 0),
        (
            "2026-11-25T10:21:36Z [info     ] target-postgres METRIC   metric_name=record_count"
            " metric_value=84",
            0,
        ),
        (
            "2026-11-25T10:21:36Z [info     ] tap-tiktok-ads METRIC   metric_name=record_count"
            " metric_value=84",
            84,
        ),
    ],
)
def test_record_count(line: str, count: int) -> None:
    assert record_count_in_line(line) == count
