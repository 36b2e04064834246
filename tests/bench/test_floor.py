"""The benchmark's floor loop (benchmarks/floor.py) against the simulator's real value shapes:
entity rows that leave fields out load with NULLs instead of stopping the benchmark."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests

from benchmarks.floor import run
from devstack.postgres import conninfo
from tiktok_sim import SimConfig, Simulator


def test_entity_rows_without_some_fields_load_as_nulls(fresh_database: Mapping[str, str]) -> None:
    dsn = conninfo(fresh_database)
    config = SimConfig(seed=3, advertisers=1, campaigns=12, adgroups=40, days=5)
    with Simulator(config) as sim:
        advertiser_id = sim.dataset.advertiser_ids[0]
        pages = [
            ("/campaign/get/", {"advertiser_id": advertiser_id, "page_size": "1000"}),
            ("/adgroup/get/", {"advertiser_id": advertiser_id, "page_size": "1000"}),
        ]
        served = []
        for endpoint, params in pages:
            body = sim_get(sim, endpoint, params)
            served += body["data"]["list"]
        # The case the floor must survive: some rows lack a field the first row has.
        assert any(set(served[0]) - set(row) for row in served)
        assert run(sim.api_url, pages, dsn, sim.config.access_token)["records"] == len(served)


def sim_get(sim: Simulator, endpoint: str, params: dict[str, str]) -> dict[str, Any]:
    response = requests.get(
        f"{sim.api_url}{endpoint}",
        params=params,
        headers={"Access-Token": sim.config.access_token},
        timeout=10,
    )
    return dict(response.json())
