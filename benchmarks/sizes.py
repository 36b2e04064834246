"""Dataset sizes and the fixed calendar every run uses (so runs are deterministic)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

SEED = 42
#: The simulator's last day of data and the tap's ``end_date`` for backfills. Pinned so that
#: "today" never moves a measurement; the daily run happens on the next day.
END_DATE = date(2026, 6, 30)
LOOKBACK_DAYS = 7
PAGE_SIZE = 1000
#: The simulator adds one TopView and one Promote campaign (one ad group each) per advertiser
#: by default (issue 14); their rows are part of every count below.
SPECIAL_CAMPAIGNS = 2


@dataclass(frozen=True)
class Size:
    name: str
    advertisers: int
    campaigns: int  # per advertiser
    adgroups: int  # per advertiser
    days: int

    @property
    def first_day(self) -> date:
        return END_DATE - timedelta(days=self.days - 1)

    @property
    def ad_group_rows(self) -> int:
        return self.advertisers * (self.adgroups + SPECIAL_CAMPAIGNS) * self.days

    @property
    def report_rows(self) -> int:
        objects = self.adgroups + self.campaigns + 2 * SPECIAL_CAMPAIGNS
        return self.advertisers * objects * self.days

    @property
    def records(self) -> int:
        """Every record a backfill emits: reports, entities, advertiser_info."""
        entities = self.adgroups + self.campaigns + 2 * SPECIAL_CAMPAIGNS + 1
        return self.report_rows + self.advertisers * entities

    def describe(self) -> str:
        return (
            f"{self.advertisers} advertiser(s) x {self.campaigns} campaigns x "
            f"{self.adgroups} ad groups x {self.days} days"
        )


SIZES = {
    "small": Size("small", advertisers=1, campaigns=20, adgroups=100, days=90),
    "large": Size("large", advertisers=5, campaigns=100, adgroups=1000, days=365),
}
