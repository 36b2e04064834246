"""dra_tiktok_ads.channel_metrics equals sums computed independently from the raw dataset."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tests.transform import dataset

COLUMNS = (
    "channel_type, channel_label, spend, impressions, clicks, ctr, conversions, cpl, roas,"
    " pipeline_value, data_source_id, currency, mixed_currency"
)
INSIDE_ONE_WINDOW = (dt.date(2024, 1, 5), dt.date(2024, 1, 20))
ACROSS_WINDOWS = (dt.date(2024, 1, 1), dt.date(2024, 3, 15))  # all 75 days, three windows


def _channel_row(warehouse, label, start, end):
    with warehouse.conn.cursor() as cursor:
        cursor.execute(
            f"SELECT {COLUMNS} FROM dra_tiktok_ads.channel_metrics(%s, %s, %s)",
            (warehouse.ids[label], start, end),
        )
        rows = cursor.fetchall()
        names = [column.name for column in cursor.description or ()]
    assert len(rows) == 1
    return dict(zip(names, rows[0], strict=True))


def _expected(warehouse, label, start, end):
    """Sums straight from the generated raw rows, in Python, with the mart's rules
    ("-" counts as 0)."""
    totals = {"spend": Decimal(0), "impressions": 0, "clicks": 0, "conversions": 0}
    for advertiser in dataset.DATA_SOURCES[label]:
        rows = dataset.raw_rows(warehouse.ids[label], advertiser)["campaign_performance"]
        for row in rows:
            if start <= row["stat_date"] <= end:
                totals["spend"] += row["spend"]
                totals["impressions"] += row["impressions"]
                totals["clicks"] += row["clicks"]
                totals["conversions"] += row["conversion"] or 0
    return totals


@pytest.mark.parametrize("date_range", [INSIDE_ONE_WINDOW, ACROSS_WINDOWS], ids=["one", "several"])
def test_single_currency_source_equals_independent_sums(built_warehouse, date_range):
    row = _channel_row(built_warehouse, "tenant_b", *date_range)
    expected = _expected(built_warehouse, "tenant_b", *date_range)
    assert row["channel_type"] == "tiktok_ads"
    assert row["channel_label"] == "TikTok Ads"
    assert row["data_source_id"] == built_warehouse.ids["tenant_b"]
    assert row["spend"] == expected["spend"]
    assert row["impressions"] == expected["impressions"]
    assert row["clicks"] == expected["clicks"]
    assert row["conversions"] == expected["conversions"]
    assert expected["conversions"] > 0
    assert float(row["ctr"]) == pytest.approx(
        expected["clicks"] / expected["impressions"], rel=1e-12
    )
    assert 0 < row["ctr"] < 1  # a fraction, not a percentage
    assert row["cpl"] == pytest.approx(
        expected["spend"] / expected["conversions"], rel=Decimal("1e-12")
    )
    assert (row["roas"], row["pipeline_value"]) == (0, 0)
    assert (row["currency"], row["mixed_currency"]) == ("USD", False)


def test_range_bounds_are_inclusive(built_warehouse):
    day = dt.date(2024, 2, 10)
    row = _channel_row(built_warehouse, "tenant_b", day, day)
    expected = _expected(built_warehouse, "tenant_b", day, day)
    assert row["impressions"] == expected["impressions"] > 0
    assert row["spend"] == expected["spend"]


def test_zero_conversions_give_cpl_zero(built_warehouse):
    row = _channel_row(built_warehouse, "quiet", *ACROSS_WINDOWS)
    assert row["conversions"] == 0
    assert row["spend"] > 0
    assert row["cpl"] == 0


def test_no_data_gives_a_zero_row_not_no_row(built_warehouse):
    row = _channel_row(built_warehouse, "tenant_b", dt.date(2030, 1, 1), dt.date(2030, 1, 31))
    assert row["spend"] == 0
    assert (row["impressions"], row["clicks"], row["conversions"]) == (0, 0, 0)
    assert (row["ctr"], row["cpl"], row["roas"], row["pipeline_value"]) == (0, 0, 0, 0)
    assert row["data_source_id"] == built_warehouse.ids["tenant_b"]
    assert row["mixed_currency"] is False


def test_mixed_currencies_are_flagged_not_summed(built_warehouse):
    row = _channel_row(built_warehouse, "mixed", *INSIDE_ONE_WINDOW)
    expected = _expected(built_warehouse, "mixed", *INSIDE_ONE_WINDOW)
    assert row["mixed_currency"] is True
    assert row["currency"] is None
    assert row["spend"] is None
    assert row["cpl"] is None
    # Currency-free totals stay exact.
    assert row["impressions"] == expected["impressions"]
    assert row["clicks"] == expected["clicks"]
    assert row["conversions"] == expected["conversions"]
    daily = built_warehouse.conn.execute(
        "SELECT currency, sum(spend), bool_and(is_mixed_currency)"
        " FROM dra_tiktok_ads.marketing_channel_daily WHERE data_source_id = %s"
        " AND stat_date BETWEEN %s AND %s GROUP BY currency ORDER BY currency",
        (built_warehouse.ids["mixed"], *INSIDE_ONE_WINDOW),
    ).fetchall()
    assert [(currency, flagged) for currency, _, flagged in daily] == [
        ("EUR", True),
        ("USD", True),
    ]
    assert sum(spend for _, spend, _ in daily) == expected["spend"]


def test_daily_model_has_one_row_per_source_day_and_currency(built_warehouse):
    rows = built_warehouse.conn.execute(
        "SELECT data_source_id, count(*), count(DISTINCT stat_date)"
        " FROM dra_tiktok_ads.marketing_channel_daily GROUP BY 1 ORDER BY 1"
    ).fetchall()
    ids = built_warehouse.ids
    assert rows == sorted(
        [
            (ids["mixed"], 2 * dataset.DAYS, dataset.DAYS),
            (ids["tenant_b"], dataset.DAYS, dataset.DAYS),
            (ids["quiet"], dataset.DAYS, dataset.DAYS),
        ]
    )
