"""Faults during extraction, one scenario each, through the real `meltano run`.

Each scenario arms a fault on the simulator once the run has fetched a few report pages,
lets the run finish, and compares the raw rows of its data source with the clean run's.
The last test builds the marts once for every scenario's data source and compares each
with the clean run's marts: the finance tables end up identical whatever happened.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from tests.reliability.conftest import Reference
from tests.reliability.harness import (
    EL,
    END_DATE,
    REPORT,
    START_DATE,
    Pipeline,
    bookmarks,
    reports_served,
    stored_state,
    wait_for,
)
from tests.reliability.proxy import MutatingProxy
from tiktok_sim import Simulator
from tiktok_sim.dataset import LEVEL_ADGROUP, LEVEL_CAMPAIGN

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

#: Data sources loaded by this module's scenarios, checked together by the mart test.
SCENARIO_SOURCES: list[int] = []


def run_with_fault(
    pipeline: Pipeline, arm: Callable[[Simulator], None], after_reports: int = 3
) -> tuple[int, str]:
    """Start the EL run, arm the fault once ``after_reports`` pages were served, finish."""
    ds = pipeline.new_source()
    process = pipeline.start_run(*EL, data_source_id=ds)
    wait_for(lambda: reports_served(pipeline.simulator) >= after_reports or process.poll())
    arm(pipeline.simulator)
    result = pipeline.finish(process, ("run", *EL))
    assert result.returncode == 0, result.tail()
    SCENARIO_SOURCES.append(ds)
    return ds, result.output


def faulted(simulator: Simulator) -> list[str]:
    return [r.outcome for r in simulator.stats.requests(REPORT) if r.fault]


SCENARIOS = {
    "40100 burst": (lambda s: s.faults.rate_limit(n=3, code=40100, endpoint=REPORT), "40100"),
    "40133 burst": (lambda s: s.faults.rate_limit(n=3, code=40133, endpoint=REPORT), "40133"),
    "HTTP 429": (lambda s: s.faults.http_error(429, n=2, endpoint=REPORT), "http_429"),
    "HTTP 500": (lambda s: s.faults.http_error(500, n=2, endpoint=REPORT), "http_500"),
    "HTTP 503": (lambda s: s.faults.http_error(503, n=2, endpoint=REPORT), "http_503"),
    "HTTP 504": (lambda s: s.faults.http_error(504, n=2, endpoint=REPORT), "http_504"),
    "slower than request_timeout": (
        lambda s: s.faults.slow(n=1, seconds=7, endpoint=REPORT),  # request_timeout is 5
        None,
    ),
    "truncated body": (lambda s: s.faults.malformed(n=2, kind="truncated", endpoint=REPORT), None),
    "non-JSON body": (lambda s: s.faults.malformed(n=1, kind="not_json", endpoint=REPORT), None),
    "connection dropped mid-body": (
        lambda s: s.faults.malformed(n=1, kind="disconnect", endpoint=REPORT),
        None,
    ),
    "50002": (lambda s: s.faults.api_error(code=50002, n=2, endpoint=REPORT), "50002"),
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_fault_is_retried_and_the_rows_equal_a_clean_run(
    scenario: str, sim_pipeline: Pipeline, reference: Reference
) -> None:
    arm, outcome = SCENARIOS[scenario]
    ds, output = run_with_fault(sim_pipeline, arm)

    assert faulted(sim_pipeline.simulator), f"{scenario}: the fault never fired"
    if outcome:
        assert outcome in faulted(sim_pipeline.simulator)
    assert "Retry " in output, f"{scenario}: no retry was logged"
    assert sim_pipeline.raw_dump(ds) == reference.raw
    assert bookmarks(stored_state(sim_pipeline.system_db, ds)) == reference.bookmarks


def test_token_expiring_mid_run_is_refreshed_with_the_rotating_refresh_token(
    module_db: dict[str, str], reference: Reference, tmp_path: Path
) -> None:
    with Simulator(replace(reference.pipeline.simulator.config, token_lifetime_s=3600)) as sim:
        pipeline = Pipeline(module_db, sim, tmp_path / "meltano.db")
        issued = sim.tokens.redeem_auth_code(sim.tokens.issue_auth_code(sim.dataset.advertiser_ids))
        assert issued.refresh_token
        store = tmp_path / "tokens" / "store.json"
        store.parent.mkdir()
        from tap_tiktok_ads.auth import StoredTokens, TokenStore

        TokenStore(store).save(
            StoredTokens(
                access_token=issued.access_token,
                refresh_token=issued.refresh_token,
                token_expires_at=None,
                advertiser_ids=sim.dataset.advertiser_ids,
            )
        )
        pipeline.extra_secrets += [issued.access_token, issued.refresh_token]
        ds = pipeline.new_source()
        process = pipeline.start_run(
            *EL,
            data_source_id=ds,
            access_token=None,
            token_store_path=str(store),
        )
        wait_for(lambda: reports_served(sim) >= 4 or process.poll())
        sim.faults.expire_access_tokens()  # every token known now is dead from this moment
        result = pipeline.finish(process, ("run", *EL))
        assert result.returncode == 0, result.tail()

        assert sim.stats.count(REPORT, outcome="40105") >= 1, "the token never expired mid-run"
        assert sim.stats.count("/oauth2/refresh_token/", outcome="0") == 1
        saved = TokenStore(store).load()
        assert saved is not None
        assert saved.access_token != issued.access_token
        assert saved.refresh_token not in (None, issued.refresh_token)
        assert store.stat().st_mode & 0o777 == 0o600
        # The rotated tokens must not leak either.
        for secret in (saved.access_token, saved.refresh_token or ""):
            assert secret not in result.output
        assert pipeline.raw_dump(ds) == reference.raw
        SCENARIO_SOURCES.append(ds)


def test_simulator_restarting_mid_sync(
    module_db: dict[str, str], reference: Reference, tmp_path: Path
) -> None:
    """The API process dies mid-sync (open connections dropped, new ones refused for 2 s)
    and a fresh one answers on the same address."""
    config = replace(reference.pipeline.simulator.config, latency_ms=20)
    with Simulator(config) as first, Simulator(config) as second:
        with MutatingProxy(first.base_url) as api:
            pipeline = Pipeline(module_db, first, tmp_path / "meltano.db", api_url=api.api_url)
            ds = pipeline.new_source()
            process = pipeline.start_run(*EL, data_source_id=ds)
            wait_for(lambda: reports_served(first) >= 4 or process.poll())
            api.restart(second.base_url, downtime=2)
            result = pipeline.finish(process, ("run", *EL))
        assert result.returncode == 0, result.tail()
        assert reports_served(second) > 0, "the run did not come back to the restarted API"
        assert "Retry " in result.output
        assert pipeline.raw_dump(ds) == reference.raw
        SCENARIO_SOURCES.append(ds)


def test_fatal_error_fails_loudly_with_request_id_and_state_keeps_only_whole_windows(
    sim_pipeline: Pipeline, reference: Reference
) -> None:
    """An error no retry fixes (here 40001 mid-backfill) stops the run; the resume is exact.

    The same path ends a run whose retries are exhausted (see test_retries.py).
    """
    sim = sim_pipeline.simulator
    ds = sim_pipeline.new_source()
    process = sim_pipeline.start_run(*EL, data_source_id=ds)
    wait_for(lambda: reports_served(sim) >= 7 or process.poll())
    sim.faults.api_error(code=40001, n=1000, endpoint=REPORT)
    result = sim_pipeline.finish(process, ("run", *EL))

    assert result.returncode != 0
    failed = [line for line in result.output.splitlines() if "Sync failed" in line]
    assert failed, result.tail()
    assert "request_id sim" in failed[0]
    assert "Traceback" not in "\n".join(
        line for line in result.output.splitlines() if "tap-tiktok-ads" in line
    )
    # State holds a bookmark only where every row up to it was loaded.
    state = bookmarks(sim_pipeline.state(ds))
    levels = {"campaign_performance": LEVEL_CAMPAIGN, "ad_group_performance": LEVEL_ADGROUP}
    with sim_pipeline.connect() as conn:
        for stream, per_advertiser in state.items():
            for advertiser_id, bookmark in per_advertiser.items():
                last = min(END_DATE, type(END_DATE).fromisoformat(bookmark[:10]))
                loaded = conn.execute(
                    f"SELECT count(*) FROM tiktok_ads.{stream} WHERE data_source_id = %s"
                    " AND advertiser_id = %s AND stat_date <= %s",
                    (ds, advertiser_id, last),
                ).fetchone()
                expected = sim.dataset.report_row_count(
                    levels[stream], advertiser_id, START_DATE, last
                )
                assert loaded == (expected,), (stream, advertiser_id, bookmark)
    assert state != reference.bookmarks, "the failure came too late to test partial state"

    # The cause gone, the next run resumes and ends identical to a clean run.
    sim.faults.clear()
    sim_pipeline.run(*EL, data_source_id=ds)
    assert sim_pipeline.raw_dump(ds) == reference.raw
    SCENARIO_SOURCES.append(ds)


def test_marts_of_every_fault_scenario_equal_a_clean_run(
    sim_pipeline: Pipeline, reference: Reference
) -> None:
    if not SCENARIO_SOURCES:
        pytest.skip("no fault scenario ran in this session")
    sim_pipeline.meltano("run", "dbt-postgres:build")
    for ds in SCENARIO_SOURCES:
        assert sim_pipeline.mart_dump(ds) == reference.marts, f"data source {ds}"
        assert set(sim_pipeline.duplicates(ds).values()) == {0}
