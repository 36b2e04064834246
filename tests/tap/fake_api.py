"""A small in-memory TikTok API on requests-mock, for focused tap tests.

It answers the report endpoint from explicit rows, filtering by the requested dates and
paging them, so tests can state exactly what the API holds and what the tap must emit. The
entity endpoints follow TikTok's documented filters (TopView only when asked alone, Promote
only when asked, deleted campaigns only with STATUS_DELETE), and report queries can be made
"too large" (40067) or "truncated" (X-Tt-Ads-Throttle) by a rule a test sets.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlparse

import requests_mock

from tap_tiktok_ads.output import flush_all
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
    adgroups: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    report_requests: list[dict[str, Any]] = field(default_factory=list)
    entity_requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    #: Report query params -> True when TikTok would answer 40067 "query too large".
    too_large: Callable[[dict[str, Any]], bool] = lambda _params: False
    #: Report query params -> True when TikTok would truncate the result (and set the header).
    truncated: Callable[[dict[str, Any]], bool] = lambda _params: False

    def install(self) -> FakeTikTok:
        self.mocker.get(f"{API}/advertiser/info/", json=self._advertiser_info)
        self.mocker.get(f"{API}/oauth2/advertiser/get/", json=self._authorized)
        self.mocker.get(f"{API}/campaign/get/", json=self._entities("campaign", self.campaigns))
        self.mocker.get(f"{API}/adgroup/get/", json=self._entities("adgroup", self.adgroups))
        self.mocker.get(f"{API}/report/integrated/get/", json=self._report)
        return self

    def add_campaign(
        self,
        advertiser_id: str,
        campaign_id: str,
        *,
        buying_type: str = "AUCTION",
        origin: str = "TT_ADS_PLATFORM",
        deleted: bool = False,
        **fields: Any,
    ) -> None:
        self.campaigns[advertiser_id].append(
            {
                "campaign_id": campaign_id,
                "campaign_name": f"Campaign {campaign_id}",
                "_buying_type": buying_type,
                "_origin": origin,
                "_deleted": deleted,
                **fields,
            }
        )

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

    def _entities(self, kind: str, store: dict[str, list[dict[str, Any]]]) -> Any:
        def answer(request: Any, context: Any) -> dict[str, Any]:
            params = query(request)
            self.entity_requests.append((kind, params))
            filtering = params.get("filtering") or {}
            buying_types = filtering.get("buying_types", ["AUCTION", "RESERVATION_RF"])
            if "RESERVATION_TOP_VIEW" in buying_types and len(buying_types) > 1:
                return envelope({}, 40002, "RESERVATION_TOP_VIEW cannot be combined")
            status = filtering.get("primary_status", "STATUS_NOT_DELETE")
            if kind == "campaign" and status == "STATUS_ALL":
                return envelope({}, 40002, "primary_status: STATUS_ALL is not supported")
            origins = filtering.get("campaign_system_origins", ["TT_ADS_PLATFORM"])
            rows = [
                {k: v for k, v in row.items() if not k.startswith("_")}
                for row in store[params["advertiser_id"]]
                if row["_buying_type"] in buying_types
                and row["_origin"] in origins
                and row.get("campaign_id")
                in filtering.get("campaign_ids", [row.get("campaign_id")])
                and (status == "STATUS_ALL" or row["_deleted"] == (status == "STATUS_DELETE"))
            ]
            return envelope(page_of(rows, params))

        return answer

    def _report(self, request: Any, context: Any) -> dict[str, Any]:
        params = query(request)
        self.report_requests.append(params)
        if self.too_large(params):
            return envelope({}, 40067, "Your query is too large, please reduce the query size")
        filters = {
            f["field_name"]: json.loads(f["filter_value"]) for f in params.get("filtering", [])
        }
        id_field = "campaign_id" if params["data_level"] == "AUCTION_CAMPAIGN" else "adgroup_id"
        rows = [
            row
            for row in self.reports[(params["data_level"], params["advertiser_id"])]
            if params["start_date"] <= row["dimensions"]["stat_time_day"][:10] <= params["end_date"]
            and (
                "campaign_ids" not in filters
                or (row["metrics"].get("campaign_id") or row["dimensions"][id_field])
                in filters["campaign_ids"]
            )
            and (
                "adgroup_ids" not in filters
                or row["dimensions"][id_field] in filters["adgroup_ids"]
            )
        ]
        if self.truncated(params):
            context.headers["X-Tt-Ads-Throttle"] = "Number of ad ids is equal or more than 20k"
            rows = rows[: len(rows) // 2]
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
        # The CLI flushes buffered records at exit; a run whose last stream writes no STATE
        # after its records (bookmark unchanged) would otherwise leave them unread here.
        flush_all()
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
