"""Focused unit tests of an async report task's life (no HTTP: the simulator never fails a
task): FAILED and CANCELED end the sync in one line naming the task, a file without the
asked columns is refused, and polling waits longer each time."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import requests
from singer_sdk.exceptions import FatalAPIError

from tap_tiktok_ads.async_reports import TaskReport
from tap_tiktok_ads.windows import DateWindow

WINDOW = DateWindow(date(2026, 1, 1), date(2026, 12, 31))


def answer(data: dict[str, Any] | None = None, csv: str | None = None) -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    if csv is not None:
        response._content = csv.encode()
        response.headers["Content-Type"] = "text/csv"
    else:
        response._tiktok_envelope = {"code": 0, "data": data or {}}  # type: ignore[attr-defined]
    return response


def task_report(statuses: list[dict[str, Any]], csv: str = "") -> tuple[TaskReport, list[float]]:
    waits: list[float] = []

    def fetch(path: str, params: dict[str, Any], *_: Any, **__: Any) -> requests.Response:
        if path.endswith("/check/"):
            return answer(statuses.pop(0))
        return answer(csv=csv)

    def wait(seconds: float) -> bool:
        waits.append(seconds)
        return False

    report = TaskReport(
        "7001",
        "AUCTION_CAMPAIGN",
        ["campaign_id", "stat_time_day"],
        ["spend"],
        fetch,
        lambda: None,
        wait,
    )
    return report, waits


@pytest.mark.parametrize(
    ("status", "said"),
    [
        ({"status": "FAILED", "message": "internal error"}, "ended FAILED: internal error"),
        ({"status": "CANCELED"}, "ended CANCELED"),
        ({}, "ended without a status"),
    ],
)
def test_a_task_that_does_not_succeed_stops_the_sync_naming_it(status, said):
    report, _ = task_report([{"status": "QUEUING"}, status])
    with pytest.raises(FatalAPIError, match=said) as failure:
        list(report.rows("7301", WINDOW))
    assert "task 7301 (AUCTION_CAMPAIGN, advertiser 7001, 2026-01-01..2026-12-31)" in str(
        failure.value
    )


def test_polling_waits_longer_each_time_and_reads_the_file_by_field_name():
    csv = "campaign_id,stat_time_day,spend\n18,2026-01-01 00:00:00,1.50\n"
    report, waits = task_report(
        [{"status": "QUEUING"}, {"status": "PROCESSING"}, {"status": "SUCCESS"}], csv
    )
    assert list(report.rows("7301", WINDOW)) == [
        {"campaign_id": "18", "stat_time_day": "2026-01-01 00:00:00", "spend": "1.50"}
    ]
    assert waits == [0.2, 0.4]


def test_a_file_with_translated_titles_is_refused():
    report, _ = task_report([{"status": "SUCCESS"}], "Campaign ID,By Day,Cost\n18,x,1\n")
    with pytest.raises(FatalAPIError, match="lacks the column"):
        list(report.rows("7301", WINDOW))
