"""The message for rows the transform held back names the column, key, value and the fix."""

from __future__ import annotations

from dra_tiktok_ads.sync.problems import HeldBack, quarantine_message


def test_message_names_column_key_value_and_what_to_do() -> None:
    message = quarantine_message(
        [
            HeldBack(
                "dra_tiktok_ads.campaign_performance",
                "stat_date=2026-03-30, campaign_id=17",
                "campaign_name",
                "N" * 600,
                "does not fit VARCHAR(512)",
                14,
            ),
            HeldBack(
                "dra_tiktok_ads.campaign_performance",
                "stat_date=2026-03-29, campaign_id=17",
                "spend",
                "99999999999.99",
                "does not fit NUMERIC(12,2)",
                1,
            ),
        ]
    )
    assert message.startswith("Sync failed: rows of this data source do not fit")
    assert (
        "dra_tiktok_ads.campaign_performance.campaign_name does not fit VARCHAR(512): value"
        f" {'N' * 20!r}... (600 characters) at key stat_date=2026-03-30, campaign_id=17"
        " (and 13 more row(s)); shorten the campaign name in TikTok Ads Manager" in message
    )
    assert "value '99999999999.99' at key stat_date=2026-03-29, campaign_id=17;" in message
    assert "the next sync loads everything held back" in message
    assert len(message) < 1000  # sync_error_message keeps the first 1,000 characters
