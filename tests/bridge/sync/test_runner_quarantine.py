"""Issue 15, items 2 and 9 through the real runner, Meltano, dbt and PostgreSQL: a data
source whose API data does not fit the platform's tables fails alone, with a message naming
the column, key and value; another data source's sync in the same cycle completes with
current marts; a deleted data source's raw rows are removed by the next build."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.bridge.sync.test_runner_end_to_end import (  # noqa: F401 - fixtures
    Platform,
    platform,
    sim,
)
from tests.reliability.proxy import MutatingProxy

pytestmark = pytest.mark.e2e

LONG_NAME = "N" * 600  # the platform's campaign_name is VARCHAR(512)
HUGE_SPEND = "99999999999.99"  # beyond NUMERIC(12,2)


class OversizedFirstCampaignRow:
    """Gives the first row of every campaign report page a 600-character campaign name and
    a spend of 99,999,999,999.99, and remembers that row's key."""

    def __init__(self) -> None:
        self.keys: set[tuple[str, str]] = set()

    def __call__(self, envelope: dict[str, Any]) -> dict[str, Any]:
        rows = (envelope.get("data") or {}).get("list") or []
        if rows and "campaign_id" in rows[0]["dimensions"]:
            rows[0]["metrics"]["campaign_name"] = LONG_NAME
            rows[0]["metrics"]["spend"] = HUGE_SPEND
            dims = rows[0]["dimensions"]
            self.keys.add((str(dims["campaign_id"]), dims["stat_time_day"][:10]))
        return envelope


@pytest.fixture
def oversized(
    platform: Platform,  # noqa: F811 - the imported fixture
) -> Iterator[tuple[MutatingProxy, OversizedFirstCampaignRow]]:
    mutation = OversizedFirstCampaignRow()
    with MutatingProxy(platform.sim.base_url, mutation) as proxy:
        yield proxy, mutation


def test_one_data_sources_bad_row_fails_it_alone_and_deleted_raw_rows_go(
    platform: Platform,  # noqa: F811 - the imported fixture
    oversized: tuple[MutatingProxy, OversizedFirstCampaignRow],
) -> None:
    proxy, mutation = oversized
    first, second = platform.sim.dataset.advertiser_ids
    deleted_later = platform.register(first, project_id=1, schedule="manual")
    clean = platform.register(first, project_id=2, schedule="manual")
    bad = platform.register(
        second, project_id=1, schedule="manual", tokens={"api_url": proxy.api_url}
    )
    assert (clean, bad) == (2, 3)  # the data sources 2 and 3

    # Data source 3 receives the oversized row; data source 1 syncs in the same cycle.
    code, outcomes, output = platform.sync(
        "--data-source", str(bad), "--data-source", str(deleted_later), "--max-parallel", "2"
    )
    assert code == 1, output
    assert outcomes[deleted_later]["status"] == "completed", output
    assert outcomes[bad]["status"] == "failed", output
    (campaign_id, day) = sorted(mutation.keys)[0]
    message = platform.row(bad)["sync_error_message"]
    assert platform.row(bad)["sync_status"] == "failed"
    assert message.startswith("Sync failed: rows of this data source do not fit"), message
    key = f"stat_date={day}, campaign_id={campaign_id}"
    assert (
        f"dra_tiktok_ads.campaign_performance.campaign_name does not fit VARCHAR(512): value"
        f" 'NNNNNNNNNNNNNNNNNNNN'... (600 characters) at key {key}" in message
    ), message
    assert f"campaign_performance.spend does not fit NUMERIC(12,2): value '{HUGE_SPEND}'" in message
    assert "shorten the campaign name in TikTok Ads Manager" in message
    # Nothing of data source 3's campaign batch was written; its other tables loaded.
    assert platform.mart_rows(bad) == 0
    assert platform.raw_rows(bad)["campaign_performance"] > 0

    # The platform deletes data source 1; data source 2's next sync builds with data source
    # 3's rows still held back: it completes, its marts are current, 1's raw rows are gone.
    with platform.connect() as conn:
        conn.execute("DELETE FROM dra_data_sources WHERE id = %s", (deleted_later,))
    code, outcomes, output = platform.sync("--data-source", str(clean))
    assert code == 0, output
    assert outcomes[clean]["status"] == "completed", output
    assert platform.row(clean)["sync_error_message"] is None
    raw = platform.raw_rows(clean)
    assert raw["campaign_performance"] > 0
    assert platform.mart_rows(clean) == raw["campaign_performance"]
    assert set(platform.raw_rows(deleted_later).values()) == {0}
    assert platform.row(bad)["sync_status"] == "failed"
    assert platform.mart_rows(bad) == 0
