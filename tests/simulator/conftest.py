"""Fixtures for the simulator's own tests: one shared simulator, cleaned after every test."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import requests

from tiktok_sim import SimConfig, Simulator

END_DATE = date(2026, 11, 20)
REPORT = "/report/integrated/get/"
# The plain simulator most tests here use: every issue-14 behaviour off (each has its own
# tests in test_sim_fidelity_*.py, which switch it on). The QPS limit is off because these
# tests call as fast as they can on purpose.
PLAIN: dict[str, Any] = {
    "app_qps_limit": None,
    "query_size_limit": None,
    "sync_report_ad_limit": None,
    "hide_special_campaigns": False,
    "documented_filters_only": False,
    "real_value_shapes": False,
}


class ApiClient:
    """requests with the Access-Token header; lists and dicts are JSON-encoded like the tap."""

    def __init__(self, sim: Simulator, token: str | None = None) -> None:
        self.sim = sim
        self.session = requests.Session()
        self.token = sim.config.access_token if token is None else token

    def get(self, path: str, timeout: float = 10, **params: Any) -> requests.Response:
        encoded = {k: json.dumps(v) if isinstance(v, list | dict) else v for k, v in params.items()}
        headers = {"Access-Token": self.token} if self.token else {}
        return self.session.get(
            self.sim.api_url + path, params=encoded, headers=headers, timeout=timeout
        )

    def body(self, path: str, **params: Any) -> dict[str, Any]:
        response = self.get(path, **params)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def data(self, path: str, **params: Any) -> dict[str, Any]:
        body = self.body(path, **params)
        assert body["code"] == 0, body
        return dict(body["data"])

    def report(self, advertiser_id: str, level: str, **params: Any) -> dict[str, Any]:
        """Body of a report call with sensible defaults for the given level."""
        id_dimension = {
            "AUCTION_ADVERTISER": "advertiser_id",
            "AUCTION_CAMPAIGN": "campaign_id",
            "AUCTION_ADGROUP": "adgroup_id",
            "AUCTION_AD": "ad_id",
        }[level]
        query: dict[str, Any] = {
            "advertiser_id": advertiser_id,
            "report_type": "BASIC",
            "data_level": level,
            "dimensions": [id_dimension, "stat_time_day"],
            "metrics": ["spend", "impressions", "clicks"],
            "start_date": "2026-11-01",
            "end_date": "2026-11-20",
            "page_size": 1000,
        } | params
        return self.body(REPORT, **query)

    def report_rows(self, advertiser_id: str, level: str, **params: Any) -> list[dict[str, Any]]:
        """Every row of a report, following page_info."""
        rows: list[dict[str, Any]] = []
        page = 1
        while True:
            body = self.report(advertiser_id, level, page=page, **params)
            assert body["code"] == 0, body
            rows.extend(body["data"]["list"])
            if page >= body["data"]["page_info"]["total_page"]:
                return rows
            page += 1


@pytest.fixture(scope="session")
def sim() -> Iterator[Simulator]:
    with Simulator(SimConfig(seed=7, end_date=END_DATE, **PLAIN)) as simulator:
        yield simulator


@pytest.fixture(autouse=True)
def _clean_simulator(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "sim" in request.fixturenames:
        simulator: Simulator = request.getfixturevalue("sim")
        simulator.faults.clear()
        simulator.stats.reset()
        simulator.dataset.clear_revisions()


@pytest.fixture
def api(sim: Simulator) -> ApiClient:
    return ApiClient(sim)


@pytest.fixture
def advertiser_id(sim: Simulator) -> str:
    return sim.dataset.advertiser_ids[0]


@pytest.fixture
def make_sim() -> Iterator[Any]:
    """Factory for simulators with their own configuration (PLAIN unless overridden); all
    stopped after the test."""
    started: list[Simulator] = []

    def start(**config: Any) -> Simulator:
        simulator = Simulator(SimConfig(**({"end_date": END_DATE} | PLAIN | config))).start()
        started.append(simulator)
        return simulator

    yield start
    for simulator in started:
        simulator.stop()


@pytest.fixture
def client_for() -> Any:
    """Factory: ApiClient(sim, token)."""
    return ApiClient
