"""Bad input through the user's path, `meltano run`: bad settings and bad API data.

Bad settings: one line naming the setting, a non-zero exit, no traceback, and not a single
row or bookmark changed (the clean run's database is the victim). The tap CLI's own checks
are in tests/tap/test_config_validation.py; here a representative set goes through Meltano.
Bad API data: each kind is handled on purpose (coerced, skipped with a warning, or rejected
with a clear error), never written into the finance tables as something it is not.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.conftest import Reference
from tests.reliability.harness import PIPELINE, Pipeline, bookmarks, stored_state
from tests.reliability.proxy import MutatingProxy

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# (case, setting overrides, text the one-line error must contain)
BAD_SETTINGS: list[tuple[str, dict[str, Any], str]] = [
    ("missing token", {"access_token": None}, "access_token"),
    ("malformed start_date", {"start_date": "2026-02-30"}, "start_date"),
    ("end before start", {"end_date": "2026-01-01"}, "end_date"),
    ("unknown advertiser", {"advertiser_ids": '["7099999999999999999"]'}, "advertiser_ids"),
    ("advertiser id not digits", {"advertiser_ids": '["acme"]'}, "advertiser_ids"),
    ("page_size 0", {"page_size": "0"}, "page_size"),
    ("page_size 5000", {"page_size": "5000"}, "page_size"),
    ("negative lookback", {"lookback_days": "-1"}, "lookback_days"),
    ("zero request rate", {"max_requests_per_second": "0"}, "max_requests_per_second"),
    ("wrong api_url scheme", {"api_url": "ftp://business-api.tiktok.com/open_api"}, "api_url"),
    ("request_timeout 0", {"request_timeout": "0"}, "request_timeout"),
    ("token_expires_at not a time", {"token_expires_at": "soonish"}, "token_expires_at"),
    ("refresh_token without app", {"refresh_token": "r", "app_secret": None}, "refresh_token"),
    (
        "unreadable token store",
        {"access_token": None, "token_store_path": "<dir>"},
        "token_store_path",
    ),
    (
        "corrupt token store",
        {"access_token": None, "token_store_path": "<corrupt>"},
        "token_store_path",
    ),
]


def test_bad_settings_fail_in_one_line_and_change_nothing(
    reference: Reference, tmp_path: Path
) -> None:
    pipeline, ds = reference.pipeline, reference.data_source_id
    raw, marts = pipeline.raw_dump(ds), pipeline.mart_dump(ds)
    state_before = stored_state(pipeline.system_db, ds)
    corrupt = tmp_path / "corrupt.json"
    corrupt.write_text("{not json", encoding="utf-8")
    corrupt.chmod(0o600)
    paths = {"<dir>": str(tmp_path), "<corrupt>": str(corrupt)}

    # All cases at once (they fail in seconds, mostly in start-up); each its own state db.
    running = []
    for case, overrides, _ in BAD_SETTINGS:
        settings = {k: paths.get(v, v) if isinstance(v, str) else v for k, v in overrides.items()}
        ids = json.loads(settings.pop("advertiser_ids", "null")) or (
            pipeline.simulator.dataset.advertiser_ids
        )
        # Its own Meltano system database: Meltano refuses a second concurrent run of one
        # state id ("Another ... pipeline is already running"), which is not what this tests.
        case_pipeline = replace(pipeline, system_db=tmp_path / f"case-{len(running)}.db")
        process = case_pipeline.start_run(data_source_id=ds, advertiser_ids=ids, **settings)
        running.append((case, process))
    problems = []
    for (case, process), (_, _, setting) in zip(running, BAD_SETTINGS, strict=True):
        result = pipeline.finish(process, ("run", case))
        lines = result.output.splitlines()
        naming = [
            ln for ln in lines if setting in ln and ("error" in ln.lower() or "fail" in ln.lower())
        ]
        if result.returncode == 0:
            problems.append(f"{case}: exit status 0")
        if not naming:
            problems.append(f"{case}: no error line names {setting}:\n{result.tail(15)}")
        if "Traceback" in result.output:
            problems.append(f"{case}: traceback in the output:\n{result.tail(30)}")
    assert not problems, "\n".join(problems)

    assert pipeline.raw_dump(ds) == raw
    assert pipeline.mart_dump(ds) == marts
    assert stored_state(pipeline.system_db, ds) == state_before


# (case, setting overrides, text the FIRST error line must contain): values Meltano used to
# cast silently (include_deleted=maybe read as false) or crash on with a traceback.
UNPARSABLE: list[tuple[str, dict[str, Any], str]] = [
    ("boolean maybe", {"include_deleted": "maybe"}, "include_deleted 'maybe' is not true or false"),
    ("integer abc", {"page_size": "abc"}, "page_size 'abc' is not a whole number"),
    ("number fast", {"max_requests_per_second": "fast"}, "max_requests_per_second 'fast'"),
    ("broken JSON ids", {"advertiser_ids": '["7001"'}, "advertiser_ids '[\"7001\"' is not valid"),
    ("comma-separated ids", {"advertiser_ids": "7001,7002"}, "is a comma-separated list"),
    ("not a TikTok server", {"api_url": "<not-tiktok>"}, "not a TikTok API at <not-tiktok>"),
]


def _first_error_line(output: str) -> str:
    for line in output.splitlines():
        if "[error" in line or "| ERROR" in line:
            return line
    return ""


def test_unparsable_values_and_a_wrong_server_fail_in_one_first_line(
    reference: Reference, tmp_path: Path
) -> None:
    pipeline, ds = reference.pipeline, reference.data_source_id
    raw = pipeline.raw_dump(ds)
    # An HTTP server that is not TikTok's: every path is an HTML 404 page.
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    not_tiktok = f"http://127.0.0.1:{server.server_address[1]}/open_api/v1.3"
    try:
        running = []
        for number, (_, overrides, _) in enumerate(UNPARSABLE):
            # Upper case: the harness's own advertiser_ids argument stays the default list.
            settings = {
                k.upper(): not_tiktok if v == "<not-tiktok>" else v for k, v in overrides.items()
            }
            case_pipeline = replace(pipeline, system_db=tmp_path / f"unparsable-{number}.db")
            ids = pipeline.simulator.dataset.advertiser_ids[:1]
            process = case_pipeline.start_run(data_source_id=ds, advertiser_ids=ids, **settings)
            running.append(process)
        problems = []
        for process, (case, _, text) in zip(running, UNPARSABLE, strict=True):
            result = pipeline.finish(process, ("run", case))
            first = _first_error_line(result.output)
            expected = text.replace("<not-tiktok>", not_tiktok)
            if result.returncode == 0:
                problems.append(f"{case}: exit status 0")
            if expected not in first:
                problems.append(f"{case}: first error line lacks {expected!r}:\n{result.tail(15)}")
            if "Traceback" in result.output:
                problems.append(f"{case}: traceback in the output:\n{result.tail(30)}")
    finally:
        server.shutdown()
        server.server_close()
    assert not problems, "\n".join(problems)
    assert pipeline.raw_dump(ds) == raw


# Bad API data, applied by a proxy to campaign report pages.


class BadData:
    """Rewrites the first rows of every campaign report page and remembers which."""

    def __init__(self) -> None:
        self.garbage: set[tuple[str, str]] = set()
        self.empty: set[tuple[str, str]] = set()
        self.repeated: set[tuple[str, str]] = set()
        self.missing_id: set[tuple[str, str]] = set()
        self.huge: set[tuple[str, str]] = set()
        self.huge_mode = False

    def __call__(self, envelope: dict[str, Any]) -> dict[str, Any]:
        rows = (envelope.get("data") or {}).get("list") or []
        if len(rows) < 4 or "campaign_id" not in rows[0]["dimensions"]:
            return envelope

        def key(row: dict[str, Any]) -> tuple[str, str]:
            dims = row["dimensions"]
            return str(dims["campaign_id"]), dims["stat_time_day"][:10]

        if self.huge_mode:
            rows[0]["metrics"]["spend"] = "98765432109876.54"  # beyond NUMERIC(12,2)
            self.huge.add(key(rows[0]))
            return envelope
        rows[0]["metrics"]["spend"] = "n/a"  # an unknown metric value
        self.garbage.add(key(rows[0]))
        rows[1]["metrics"]["impressions"] = ""  # an empty string
        self.empty.add(key(rows[1]))
        rows.append(json.loads(json.dumps(rows[2])))  # the same row twice in a page
        self.repeated.add(key(rows[2]))
        self.missing_id.add(key(rows[3]))
        del rows[3]["dimensions"]["campaign_id"]  # a campaign id missing
        return envelope


@pytest.fixture
def bad_data(sim_pipeline: Pipeline) -> Iterator[tuple[Pipeline, BadData]]:
    mutation = BadData()
    with MutatingProxy(sim_pipeline.simulator.base_url, mutation) as proxy:
        sim_pipeline.api_url = proxy.api_url
        yield sim_pipeline, mutation


def _raw_campaign_rows(pipeline: Pipeline, ds: int) -> dict[tuple[str, str], tuple[Any, ...]]:
    with pipeline.connect() as conn:
        rows = conn.execute(
            "SELECT campaign_id, stat_date::text, spend, impressions, count(*) OVER"
            " (PARTITION BY campaign_id, stat_date) FROM tiktok_ads.campaign_performance"
            " WHERE data_source_id = %s",
            (ds,),
        ).fetchall()
    return {(r[0], r[1]): r[2:] for r in rows}


def test_bad_api_values_are_coerced_skipped_or_rejected_never_stored_as_numbers(
    bad_data: tuple[Pipeline, BadData], reference: Reference
) -> None:
    pipeline, mutation = bad_data
    ds = pipeline.new_source()
    result = pipeline.run(*PIPELINE, data_source_id=ds)
    assert mutation.garbage
    assert mutation.empty
    assert mutation.repeated
    assert mutation.missing_id

    rows = _raw_campaign_rows(pipeline, ds)
    clean = _raw_campaign_rows(reference.pipeline, reference.data_source_id)
    # Unknown value: logged, loaded as unknown (NULL), not as a number.
    assert "non-numeric value 'n/a'" in result.output
    assert all(rows[k][0] is None for k in mutation.garbage)
    # Empty string: TikTok's "not available", loaded as NULL.
    assert all(rows[k][1] is None for k in mutation.empty)
    # A row repeated within a page: loaded once, logged.
    assert "Skipping a repeated campaign_performance row" in result.output
    assert all(rows[k][2] == 1 for k in mutation.repeated)
    # A row without its campaign id cannot be keyed: skipped and logged, never half-loaded.
    assert "without campaign_id" in result.output
    assert not (set(rows) & (mutation.missing_id - mutation.repeated))
    # Every other row is exactly the clean run's.
    touched = mutation.garbage | mutation.empty | mutation.missing_id
    assert {k: v for k, v in rows.items() if k not in touched} == {
        k: v for k, v in clean.items() if k not in touched
    }
    assert set(pipeline.duplicates(ds).values()) == {0}


def test_number_beyond_the_mart_column_is_rejected_loudly_and_changes_no_mart(
    bad_data: tuple[Pipeline, BadData], reference: Reference
) -> None:
    pipeline, mutation = bad_data
    mutation.huge_mode = True
    proxy_url = pipeline.api_url
    good = pipeline.new_source()
    pipeline.api_url = pipeline.simulator.api_url  # a clean data source first
    pipeline.run(*PIPELINE, data_source_id=good)
    good_marts = pipeline.mart_dump(good)
    assert good_marts == reference.marts

    proxied = pipeline.new_source()
    pipeline.api_url = proxy_url
    result = pipeline.run(*PIPELINE, data_source_id=proxied, check=False)
    assert result.returncode != 0
    # The transform holds back this data source's batch (the clean one is untouched), naming
    # the column, its type and a key, and the build of this data source fails.
    assert "spend does not fit NUMERIC(12,2)" in result.output, result.tail(60)
    assert "nothing was written" in result.output
    assert pipeline.mart_dump(good) == good_marts
    # The refused model wrote nothing; the models the bad value does not reach were built.
    proxied_marts = pipeline.mart_dump(proxied)
    assert proxied_marts["campaign_performance"] == []
    assert proxied_marts["ad_group_performance"] == reference.marts["ad_group_performance"]
    assert proxied_marts["advertiser_info"] == reference.marts["advertiser_info"]
    assert bookmarks(stored_state(pipeline.system_db, proxied))
