"""A data source owns its advertisers: `meltano run tiktok-ads` (the job, as the README and
the sync runner run it) refuses to stamp one tenant's advertiser with another tenant's id,
an unknown data source, or a missing or malformed TAP_TIKTOK_ADS_DATA_SOURCE_ID, in one line
naming both, before anything is read or loaded (issue 15, item 1).
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import pytest

from tests.reliability.harness import Pipeline

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

JOB = "tiktok-ads"
_PROJECTS = itertools.count(5001)


def _raw_rows(pipeline: Pipeline, *data_source_ids: int) -> int:
    with pipeline.connect() as conn:
        exists = conn.execute("SELECT to_regclass('tiktok_ads.campaign_performance')").fetchone()
        if not exists or exists[0] is None:
            return 0
        row = conn.execute(
            "SELECT count(*) FROM tiktok_ads.campaign_performance WHERE data_source_id = ANY(%s)",
            (list(data_source_ids),),
        ).fetchone()
        return int(row[0]) if row else 0


def test_the_job_refuses_advertisers_and_ids_that_are_not_the_data_sources(
    sim_pipeline: Pipeline, tmp_path: Path
) -> None:
    pipeline = sim_pipeline
    first, second = pipeline.simulator.dataset.advertiser_ids
    ds_first = pipeline.register(first, project_id=next(_PROJECTS))
    ds_second = pipeline.register(second, project_id=next(_PROJECTS))
    unknown = ds_second + 1000
    # (case, DATA_SOURCE_ID, advertisers the tap would read, what the first error line says)
    cases: list[tuple[str, int | str, list[str], list[str]]] = [
        (
            "another tenant's advertiser",
            ds_first,
            [second],
            [f"Advertiser {second}", f"data source {ds_first}'s", f"data source {ds_second}"],
        ),
        ("both tenants' advertisers", ds_first, [first, second], [f"Advertiser {second}"]),
        ("unknown data source", unknown, [first], [f"={unknown} is no data source"]),
        ("DATA_SOURCE_ID unset", "", [first], ["TAP_TIKTOK_ADS_DATA_SOURCE_ID is not set"]),
        ("DATA_SOURCE_ID abc", "abc", [first], ["TAP_TIKTOK_ADS_DATA_SOURCE_ID='abc'"]),
    ]
    running = []
    for number, (_, data_source_id, advertisers, _) in enumerate(cases):
        case_pipeline = replace(pipeline, system_db=tmp_path / f"case-{number}.db")
        args = ("run", f"--state-id-suffix=data-source-{data_source_id or 'x'}", JOB)
        running.append(
            case_pipeline.start(*args, data_source_id=data_source_id, advertiser_ids=advertisers)
        )
    problems = []
    for process, (case, _, _, expected) in zip(running, cases, strict=True):
        result = pipeline.finish(process, (JOB, case))
        refusals = [ln for ln in result.output.splitlines() if "refused the run" in ln]
        if result.returncode == 0:
            problems.append(f"{case}: exit status 0\n{result.tail(12)}")
        elif not refusals or not all(text in refusals[0] for text in expected):
            problems.append(f"{case}: no refusal saying {expected}:\n{result.tail(12)}")
        if "Traceback" in result.output:
            problems.append(f"{case}: traceback:\n{result.tail(30)}")
        if "Beginning sync of" in result.output:
            problems.append(f"{case}: the tap started reading")
    assert not problems, "\n".join(problems)
    assert _raw_rows(pipeline, ds_first, ds_second, unknown) == 0
