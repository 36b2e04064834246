"""The Meltano Singer SDK's standard tap tests, run against the simulator over HTTP."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from singer_sdk.testing import SuiteConfig, get_tap_test_class

from tap_tiktok_ads.tap import TapTikTokAds
from tiktok_sim import SimConfig, Simulator

# The standard suite reads its config when the class is built, so the simulator starts at
# import and stops with the module.
_SIMULATOR = Simulator(
    SimConfig(
        seed=3,
        advertisers=2,
        campaigns=3,
        adgroups=6,
        days=20,
        end_date=date.today(),
        app_qps_limit=None,  # the SDK's standard tests run the tap at 200 requests/s
    )
).start()


@pytest.fixture(scope="module", autouse=True)
def _stop_simulator():
    yield
    _SIMULATOR.stop()


_CONFIG = {
    "access_token": _SIMULATOR.config.access_token,
    "api_url": _SIMULATOR.api_url,
    "app_id": _SIMULATOR.config.app_id,
    "app_secret": _SIMULATOR.config.app_secret,
    "start_date": (date.today().replace(day=1)).isoformat(),
    "max_requests_per_second": 200,
    # Every stream a setting can add, so the standard tests cover them too.
    "hourly_reports": True,
    "lifetime_reports": True,
    "custom_reports": [
        {
            "name": "custom_ad_group_by_language",
            "report_type": "AUDIENCE",
            "data_level": "AUCTION_ADGROUP",
            "dimensions": ["adgroup_id", "stat_time_day", "language"],
            "metrics": ["adgroup_name", "spend", "impressions", "cpc"],
        }
    ],
}


def _catalog_selecting_every_stream() -> dict[str, Any]:
    """The discovered catalog with every stream selected: the SDK's dry run forces streams
    on, but a stream not selected by default (audience reports) keeps an empty stream map."""
    catalog: dict[str, Any] = TapTikTokAds(config=_CONFIG).catalog_dict
    for entry in catalog["streams"]:
        for metadata in entry["metadata"]:
            if metadata["breadcrumb"] == []:
                metadata["metadata"]["selected"] = True
    return catalog


TestTapTikTokAds = get_tap_test_class(
    tap_class=TapTikTokAds,
    config=_CONFIG,
    catalog=_catalog_selecting_every_stream(),
    suite_config=SuiteConfig(max_records_limit=None),
)
