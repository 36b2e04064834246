"""Issue 14 over HTTP: the value shapes of real responses, and the fidelity switches' flags."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal

import pytest

from tiktok_sim import Simulator
from tiktok_sim.__main__ import parse_args
from tiktok_sim.config import SimConfig

METRICS = [
    "spend",
    "impressions",
    "clicks",
    "cpc",
    "reach",
    "frequency",
    "conversion",
    "cost_per_conversion",
    "cost_per_result",
]
STATUS_ALL = [
    {"field_name": "adgroup_status", "filter_type": "IN", "filter_value": '["STATUS_ALL"]'}
]


@pytest.fixture(scope="module")
def shaped():

    config = SimConfig(
        seed=5,
        campaigns=4,
        adgroups=40,
        end_date=date(2026, 11, 20),
        app_qps_limit=None,
        hide_special_campaigns=False,
    )
    with Simulator(config) as sim:
        yield sim


def test_report_values_come_in_the_real_shapes(shaped, client_for):
    api = client_for(shaped)
    advertiser_id = shaped.dataset.advertiser_ids[0]
    rows = api.report_rows(advertiser_id, "AUCTION_ADGROUP", metrics=METRICS, filtering=STATUS_ALL)
    zero_costs: Counter[object] = Counter()
    decimals, kinds = set(), Counter()
    for row in rows:
        m = row["metrics"]
        conversion = int(m["conversion"])
        if conversion == 0:
            zero_costs[m["cost_per_conversion"]] += 1
        decimals.add(len(m["spend"].split(".")[1]))
        kinds[type(m["impressions"]).__name__] += 1
        kinds["null"] += m["reach"] is None
    # "0.000"/"0.00" more often than "-" for zero-conversion costs; never a made-up number.
    assert set(zero_costs) == {"0.000", "0.00", "-"}
    assert zero_costs["0.000"] + zero_costs["0.00"] > zero_costs["-"]
    assert decimals == {2, 3, 4}
    assert kinds["int"] > 0
    assert kinds["str"] > kinds["int"]
    assert kinds["null"] > 0
    # No value changes: the sums still equal the dataset's truth.
    spend = sum(Decimal(r["metrics"]["spend"]) for r in rows)
    impressions = sum(int(r["metrics"]["impressions"]) for r in rows)
    truth = shaped.dataset.report_totals(
        "AUCTION_ADGROUP", advertiser_id, date(2026, 11, 1), date(2026, 11, 20)
    )
    assert (spend, impressions) == (truth["spend"], truth["impressions"])


def test_entities_have_more_statuses_and_sometimes_no_secondary_status(shaped, client_for):
    api = client_for(shaped)
    advertiser_id = shaped.dataset.advertiser_ids[0]
    listed = api.data(
        "/adgroup/get/",
        advertiser_id=advertiser_id,
        page_size=1000,
        filtering={"primary_status": "STATUS_ALL"},
    )["list"]
    statuses = Counter(g.get("secondary_status") for g in listed)
    assert statuses[None] > 0
    assert len(statuses) >= 5
    deleted = {g.adgroup_id for g in shaped.dataset.adgroups[advertiser_id] if g.deleted}
    for record in listed:
        if record["adgroup_id"] in deleted:
            assert record["secondary_status"].endswith("_DELETE")
    # Filtering by a primary status follows the secondary ones.
    delivering = api.data(
        "/adgroup/get/",
        advertiser_id=advertiser_id,
        page_size=1000,
        filtering={"primary_status": "STATUS_DELIVERY_OK"},
    )["list"]
    assert delivering
    assert {g.get("secondary_status") for g in delivering} <= {"ADGROUP_STATUS_DELIVERY_OK", None}


def test_plain_values_when_switched_off(make_sim, client_for):
    sim = make_sim(real_value_shapes=False)
    api = client_for(sim)
    rows = api.report_rows(sim.dataset.advertiser_ids[0], "AUCTION_ADGROUP", metrics=METRICS)
    values = [v for r in rows for v in r["metrics"].values()]
    assert all(isinstance(v, str) for v in values)
    assert all(v == "-" or len(v.split(".")[-1]) in (1, 2) or "." not in v for v in values)


def test_fidelity_flags_on_the_command_line():
    defaults = parse_args([])
    assert defaults.app_qps_limit == 10
    assert defaults.hide_special_campaigns
    assert defaults.real_value_shapes
    config = parse_args(
        [
            "--app-qps-limit=off",
            "--query-size-limit=500",
            "--sync-report-ad-limit=none",
            "--topview-campaigns=0",
            "--promote-campaigns=2",
            "--no-hide-special-campaigns",
            "--no-documented-filters-only",
            "--no-real-value-shapes",
        ]
    )
    assert config.app_qps_limit is None
    assert config.query_size_limit == 500
    assert config.sync_report_ad_limit is None
    assert (config.topview_campaigns, config.promote_campaigns) == (0, 2)
    switches = config.switches()
    assert [switches[n] for n in ("hide_special_campaigns", "documented_filters_only")] == [
        False,
        False,
    ]
    assert switches["real_value_shapes"] is False


def test_bad_fidelity_flag_names_the_setting(capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse_args(["--app-qps-limit=fast"])
    assert exit_info.value.code != 0
    assert "--app-qps-limit" in capsys.readouterr().err
    with pytest.raises(ValueError, match="app_qps_limit"):
        SimConfig(app_qps_limit=0)
