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
#: TopView and Promote campaigns the simulator adds to every advertiser (its defaults,
#: ``SimConfig.topview_campaigns`` / ``promote_campaigns``), one ad group each; TikTok hides
#: them unless asked, the tap asks (issue 14).
TOPVIEW_CAMPAIGNS = 1
PROMOTE_CAMPAIGNS = 1
SPECIAL_CAMPAIGNS = TOPVIEW_CAMPAIGNS + PROMOTE_CAMPAIGNS


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
    def all_campaigns(self) -> int:
        """Campaigns per advertiser, TopView and Promote included."""
        return self.campaigns + SPECIAL_CAMPAIGNS

    @property
    def all_adgroups(self) -> int:
        """Ad groups per advertiser, those of TopView and Promote campaigns included."""
        return self.adgroups + SPECIAL_CAMPAIGNS

    @property
    def ad_group_rows(self) -> int:
        return self.advertisers * self.all_adgroups * self.days

    @property
    def report_rows(self) -> int:
        return self.advertisers * (self.all_adgroups + self.all_campaigns) * self.days

    @property
    def records(self) -> int:
        """Every record a backfill emits: reports, entities, advertiser_info."""
        return self.report_rows + self.advertisers * (self.all_adgroups + self.all_campaigns + 1)

    def describe(self) -> str:
        return (
            f"{self.advertisers} advertiser(s) x {self.campaigns} campaigns x "
            f"{self.adgroups} ad groups x {self.days} days"
        )


SIZES = {
    "small": Size("small", advertisers=1, campaigns=20, adgroups=100, days=90),
    "large": Size("large", advertisers=5, campaigns=100, adgroups=1000, days=365),
}
