"""Records counted from Meltano's human-readable output (make demo). The runner's error
messages come from structured data: tests/bridge/sync/test_structured_outcomes.py."""

from __future__ import annotations

import pytest

from dra_tiktok_ads.sync.run_output import record_count_in_line


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
