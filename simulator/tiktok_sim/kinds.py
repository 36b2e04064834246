"""Kinds of objects in the dataset: advertiser profiles, objectives, buying types, origins."""

from __future__ import annotations

from dataclasses import dataclass

# (currency, IANA time zone, spend multiplier against USD) cycled over advertisers.
ADVERTISER_PROFILES = (
    ("USD", "America/Los_Angeles", 1.0),
    ("GBP", "Europe/London", 0.8),
    ("JPY", "Asia/Tokyo", 150.0),
    ("EUR", "Europe/Berlin", 0.9),
    ("USD", "Etc/GMT", 1.0),
    ("AUD", "Australia/Sydney", 1.5),
    ("BRL", "America/Sao_Paulo", 5.0),
)
OBJECTIVES = ("CONVERSIONS", "TRAFFIC", "VIDEO_VIEWS", "REACH", "APP_INSTALL", "LEAD_GENERATION")
CONVERSION_OBJECTIVES = frozenset({"CONVERSIONS", "APP_INSTALL", "LEAD_GENERATION"})
BUDGET_MODES = ("BUDGET_MODE_DAY", "BUDGET_MODE_TOTAL", "BUDGET_MODE_INFINITE")
WEEKDAY_FACTOR = (1.0, 1.02, 1.05, 1.03, 1.1, 1.2, 1.15)
# Buying types and campaign origins (campaign/get docs 1739315828649986).
AUCTION = "AUCTION"
RESERVATION_RF = "RESERVATION_RF"
TOP_VIEW = "RESERVATION_TOP_VIEW"
BUYING_TYPES = (AUCTION, RESERVATION_RF, TOP_VIEW)
ADS_PLATFORM = "TT_ADS_PLATFORM"
PROMOTE = "PROMOTE"
ORIGINS = (ADS_PLATFORM, PROMOTE)


@dataclass(frozen=True)
class Spec:
    """What kind of campaign index ``index`` is: regular (kind "") or TopView/Promote n."""

    index: int
    kind: str  # "", TOP_VIEW or PROMOTE
    n: int

    @property
    def objective(self) -> str:
        if self.kind == TOP_VIEW:
            return "REACH"
        # Promote campaigns have no objective in the API; "" keeps the leaves simple.
        return "" if self.kind == PROMOTE else OBJECTIVES[self.index % len(OBJECTIVES)]

    @property
    def name(self) -> str:
        if self.kind == TOP_VIEW:
            return f"TopView {self.n}"
        if self.kind == PROMOTE:
            return f"Promote {self.n}: my video"
        return f"Campaign {self.index + 1} {self.objective.title()}"

    @property
    def deleted(self) -> bool:
        # About 10%, and one in every advertiser with 4+ campaigns; never a special one.
        return not self.kind and self.index % 10 == 3

    @property
    def buying_type(self) -> str:
        return TOP_VIEW if self.kind == TOP_VIEW else AUCTION

    @property
    def system_origin(self) -> str:
        return PROMOTE if self.kind == PROMOTE else ADS_PLATFORM
