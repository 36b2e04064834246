"""A small in-memory TikTok API on requests-mock, for focused tap tests.

It answers the report endpoint from explicit rows, filtering by the requested dates and
paging them, so tests can state exactly what the API holds and what the tap must emit.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlparse

import requests_mock

from tap_tiktok_ads.tap import TapTikTokAds

API = "https://fake.tiktok.test/open_api/v1.3"
TOKEN = "token-for-tests-1234"


def envelope(data: Any, code: int = 0, message: str = "OK") -> dict[str, Any]:
    return {"code": code, "message": message, "request_id": "req-test-1", "data": data}


def query(request: Any) -> dict[str, Any]:
    """Decode the query string the way TikTok does: JSON for arrays and objects."""
    params = {}
    for key, values in parse_qs(urlparse(request.url).query).items():
        value = values[0]
        with contextlib.suppress(ValueError):
            if value[:1] in "[{":
                value = json.loads(value)
        params[key] = value
    return params


def page_of(rows: list[Any], params: dict[str, Any]) -> dict[str, Any]:
    page, size = int(params.get("page", 1)), int(params.get("page_size", 10))
    total = len(rows)
    return {
        "list": rows[(page - 1) * size : page * size],
        "page_info": {
            "page": page,
            "page_size": size,
            "total_number": total,
            "total_page": math.ceil(total / size),
        },
    }


@dataclass
class FakeTikTok:
    mocker: requests_mock.Mocker
    advertisers: dict[str, str] = field(default_factory=lambda: {"1001": "UTC"})
    # (data_level, advertiser_id) -> rows as the API returns them
    reports: dict[tuple[str, str], list[dict[str, Any]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    campaigns: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    report_requests: list[dict[str, Any]] = field(default_factory=list)

    def install(self) -> FakeTikTok:
        self.mocker.get(f"{API}/advertiser/info/", json=self._advertiser_info)
        self.mocker.get(f"{API}/oauth2/advertiser/get/", json=self._authorized)
        self.mocker.get(f"{API}/campaign/get/", json=self._campaigns)
        self.mocker.get(f"{API}/adgroup/get/", json=lambda r, _: envelope(page_of([], query(r))))
        self.mocker.get(f"{API}/report/integrated/get/", json=self._report)
        return self

    def add_report_row(
        self, level: str, advertiser_id: str, object_id: str, day: str, **metrics: str
    ) -> None:
        id_field = "campaign_id" if level == "AUCTION_CAMPAIGN" else "adgroup_id"
        self.reports[(level, advertiser_id)].append(
            {
                "dimensions": {id_field: object_id, "stat_time_day": f"{day} 00:00:00"},
                "metrics": {"spend": "1.00", "impressions": "10", **metrics},
            }
        )

    def _advertiser_info(self, request: Any, context: Any) -> dict[str, Any]:
        ids = query(request)["advertiser_ids"]
        rows = [
            {
                "advertiser_id": i,
                "name": f"Adv {i}",
                "currency": "USD",
                "timezone": self.advertisers[i],
            }
            for i in ids
            if i in self.advertisers
        ]
        return envelope({"list": rows})

    def _authorized(self, request: Any, context: Any) -> dict[str, Any]:
        rows = [{"advertiser_id": i, "advertiser_name": f"Adv {i}"} for i in self.advertisers]
        return envelope({"list": rows})

    def _campaigns(self, request: Any, context: Any) -> dict[str, Any]:
        params = query(request)
        return envelope(page_of(self.campaigns[params["advertiser_id"]], params))

    def _report(self, request: Any, context: Any) -> dict[str, Any]:
        params = query(request)
        self.report_requests.append(params)
        rows = [
            row
            for row in self.reports[(params["data_level"], params["advertiser_id"])]
            if params["start_date"] <= row["dimensions"]["stat_time_day"][:10] <= params["end_date"]
        ]
        return envelope(page_of(rows, params))


@dataclass
class SyncResult:
    records: dict[str, list[dict[str, Any]]]
    states: list[dict[str, Any]]
    messages: list[dict[str, Any]]

    @property
    def final_state(self) -> dict[str, Any]:
        return self.states[-1] if self.states else {}


def run_tap(
    config: dict[str, Any], state: dict[str, Any] | None = None, streams: list[str] | None = None
) -> SyncResult:
    """Run a full sync in-process and collect what it wrote."""
    tap = TapTikTokAds(config={"api_url": API, **config}, state=state)
    if streams is not None:
        for stream in tap.streams.values():
            stream.selected = stream.name in streams
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        tap.sync_all()
    messages = [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]
    records: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for message in messages:
        if message["type"] == "RECORD":
            records[message["stream"]].append(message["record"])
    states = [m["value"] for m in messages if m["type"] == "STATE"]
    return SyncResult(dict(records), states, messages)


def bookmarks(state: dict[str, Any], stream: str) -> dict[str, str]:
    partitions = state.get("bookmarks", {}).get(stream, {}).get("partitions", [])
    return {p["context"]["advertiser_id"]: p.get("replication_key_value") for p in partitions}


@contextlib.contextmanager
def fake_api() -> Iterator[FakeTikTok]:
    with requests_mock.Mocker() as mocker:
        yield FakeTikTok(mocker).install()
