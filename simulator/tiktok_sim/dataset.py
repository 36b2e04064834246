"""The deterministic data model: advertisers, campaigns, ad groups, ads and their daily metrics.

Entities are small and kept in memory. Report rows are never materialised: the metrics of one
(ad group, day) are derived from a hash of (seed, ad group id, day), and campaign or advertiser
rows are sums of those leaves, so any page of any report is computed from its row index alone.
An ad's numbers are its share of its ad group's leaf (integer shares, the last ad takes the
remainder), so ad rows add up exactly to the ad group's.
Counts and spend are integers (spend in cents) so sums are exact across levels.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from tiktok_sim.config import SimConfig
from tiktok_sim.kinds import (
    ADS_PLATFORM,
    ADVERTISER_PROFILES,
    AUCTION,
    BUDGET_MODES,
    CONVERSION_OBJECTIVES,
    PROMOTE,
    TOP_VIEW,
    WEEKDAY_FACTOR,
    Spec,
)
from tiktok_sim.metrics import (
    ADDITIVE_METRICS,
    COUNTERS,
    INDEX,
    UNAVAILABLE,
    Totals,
    combine,
    format_cents,
    uniforms,
    utc_text,
)

__all__ = ["ADDITIVE_METRICS", "COUNTERS", "UNAVAILABLE", "Totals", "combine", "format_cents"]

LEVEL_ADVERTISER = "AUCTION_ADVERTISER"
LEVEL_CAMPAIGN = "AUCTION_CAMPAIGN"
LEVEL_ADGROUP = "AUCTION_ADGROUP"
LEVEL_AD = "AUCTION_AD"
LEVELS = (LEVEL_ADVERTISER, LEVEL_CAMPAIGN, LEVEL_ADGROUP, LEVEL_AD)
CALLS_TO_ACTION = ("LEARN_MORE", "SHOP_NOW", "SIGN_UP", "DOWNLOAD", "CONTACT_US", "WATCH_NOW")


@dataclass(frozen=True)
class Advertiser:
    advertiser_id: str
    name: str
    currency: str
    timezone: str
    create_time: int
    first_day: date
    last_day: date
    spend_multiplier: float
    index: int


@dataclass(frozen=True)
class Campaign:
    campaign_id: str
    advertiser_id: str
    campaign_name: str
    objective_type: str
    deleted: bool
    enabled: bool
    budget: float
    budget_mode: str
    create_time: str
    modify_time: str
    adgroup_ids: tuple[str, ...] = ()
    buying_type: str = AUCTION
    system_origin: str = ADS_PLATFORM

    @property
    def special(self) -> bool:
        """TopView or Promote: hidden by default from listings and reports."""
        return self.buying_type == TOP_VIEW or self.system_origin == PROMOTE


@dataclass(frozen=True)
class AdGroup:
    adgroup_id: str
    campaign_id: str
    advertiser_id: str
    adgroup_name: str
    deleted: bool
    enabled: bool
    budget: float
    budget_mode: str
    create_time: str
    modify_time: str
    buying_type: str = AUCTION  # the campaign's
    system_origin: str = ADS_PLATFORM  # the campaign's
    # Generation parameters (not API fields).
    base_impressions: float = field(repr=False, default=0.0)
    base_ctr: float = field(repr=False, default=0.0)
    cpm_cents: float = field(repr=False, default=0.0)
    base_cvr: float = field(repr=False, default=0.0)
    result_is_conversion: bool = field(repr=False, default=False)


@dataclass(frozen=True)
class Ad:
    ad_id: str
    adgroup_id: str
    campaign_id: str
    advertiser_id: str
    ad_name: str
    ad_text: str
    call_to_action: str
    video_id: str | None
    image_ids: tuple[str, ...]
    landing_page_url: str
    identity_id: str
    identity_type: str
    ad_format: str
    deleted: bool
    enabled: bool
    create_time: str
    modify_time: str
    # Generation parameters (not API fields): this ad's place among its ad group's ads.
    position: int = field(repr=False, default=0)
    weights: tuple[int, ...] = field(repr=False, default=(1,))


class Dataset:
    """Everything the simulator serves, derived from ``SimConfig`` (seed and sizes)."""

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self._seed = config.seed
        # (advertiser_id, day) -> factor; set by ``revise``.
        self._revisions: dict[tuple[str, date], float] = {}
        self._lock = threading.Lock()
        self.advertisers: list[Advertiser] = []
        self.campaigns: dict[str, list[Campaign]] = {}
        self.adgroups: dict[str, list[AdGroup]] = {}
        self.ads: dict[str, list[Ad]] = {}
        self._advertiser_by_id: dict[str, Advertiser] = {}
        self._campaign_by_id: dict[str, Campaign] = {}
        self._adgroup_by_id: dict[str, AdGroup] = {}
        self._ads_by_adgroup: dict[str, list[Ad]] = {}
        for a in range(config.advertisers):
            self._build_advertiser(a)

    # ----- entities -------------------------------------------------------------------------

    def _advertiser_id(self, a: int) -> str:
        # 19 digits: "7", three digits of the seed, advertiser index.
        return f"7{self._seed % 1000:03d}{a:015d}"

    def _object_id(self, kind: int, a: int, n: int) -> str:
        # 19 digits: kind (18 campaign, 19 ad group, 17 ad), seed, advertiser index, object index.
        return f"{kind}{self._seed % 1000:03d}{a:05d}{n:09d}"

    def _build_advertiser(self, a: int) -> None:
        currency, tz_name, multiplier = ADVERTISER_PROFILES[a % len(ADVERTISER_PROFILES)]
        last_day = self.config.end_date or datetime.now(ZoneInfo(tz_name)).date()
        first_day = last_day - timedelta(days=self.config.days - 1)
        created = datetime.combine(first_day - timedelta(days=30 + a), datetime.min.time())
        created = created.replace(tzinfo=timezone.utc) + timedelta(hours=9, minutes=a % 60)
        advertiser = Advertiser(
            advertiser_id=self._advertiser_id(a),
            name=f"Sim Advertiser {a + 1} ({currency})",
            currency=currency,
            timezone=tz_name,
            create_time=int(created.timestamp()),
            first_day=first_day,
            last_day=last_day,
            spend_multiplier=multiplier,
            index=a,
        )
        self.advertisers.append(advertiser)
        self._advertiser_by_id[advertiser.advertiser_id] = advertiser
        # Ad group g belongs to campaign g % campaigns; each list is in id order.
        n_campaigns = self.config.campaigns
        ad_groups = [
            self._build_adgroup(advertiser, created, g, self._regular(g % n_campaigns))
            for g in range(self.config.adgroups)
        ]
        campaigns = [
            self._build_campaign(advertiser, created, self._regular(c), ad_groups[c::n_campaigns])
            for c in range(n_campaigns)
        ]
        # TopView and Promote campaigns follow the regular ones, one ad group each (a Promote
        # campaign always has exactly one); the regular objects keep their ids.
        specials = [TOP_VIEW] * self.config.topview_campaigns
        specials += [PROMOTE] * self.config.promote_campaigns
        for n, kind in enumerate(specials):
            spec = Spec(len(campaigns), kind, n + 1)
            ad_group = self._build_adgroup(advertiser, created, len(ad_groups), spec)
            ad_groups.append(ad_group)
            campaigns.append(self._build_campaign(advertiser, created, spec, [ad_group]))
        self.adgroups[advertiser.advertiser_id] = ad_groups
        self.campaigns[advertiser.advertiser_id] = campaigns
        self._adgroup_by_id.update((g.adgroup_id, g) for g in ad_groups)
        self._campaign_by_id.update((c.campaign_id, c) for c in campaigns)
        ads: list[Ad] = []
        for g, ad_group in enumerate(ad_groups):
            group_ads = self._build_ads(advertiser, ad_group, g, len(ads))
            self._ads_by_adgroup[ad_group.adgroup_id] = group_ads
            ads.extend(group_ads)
        self.ads[advertiser.advertiser_id] = ads

    def _build_ads(self, advertiser: Advertiser, ad_group: AdGroup, g: int, first: int) -> list[Ad]:
        """1 to ``ads_per_adgroup`` ads (cycling over ad groups), with integer spend shares."""
        count = 1 + g % self.config.ads_per_adgroup
        u = uniforms(f"{self._seed}:ads:{ad_group.adgroup_id}")
        weights = tuple(1 + int(u[i] * 9) for i in range(count))
        created = datetime.strptime(ad_group.create_time, "%Y-%m-%d %H:%M:%S")
        ads = []
        for k in range(count):
            n = first + k
            v = uniforms(f"{self._seed}:ad:{advertiser.index}:{n}")
            video = v[0] < 0.8  # most TikTok ads are video; the rest image (carousel) ads
            ad_id = self._object_id(17, advertiser.index, n)
            ads.append(
                Ad(
                    ad_id=ad_id,
                    adgroup_id=ad_group.adgroup_id,
                    campaign_id=ad_group.campaign_id,
                    advertiser_id=advertiser.advertiser_id,
                    ad_name=f"Ad {k + 1} - {ad_group.adgroup_name}",
                    ad_text=f"Try it today: offer {n + 1}",
                    call_to_action=CALLS_TO_ACTION[n % len(CALLS_TO_ACTION)],
                    video_id=f"v10033g50000sim{n:09d}" if video else None,
                    image_ids=() if video else tuple(f"ad-site-i18n-sg/sim{n}-{i}" for i in (1, 2)),
                    landing_page_url=f"https://shop.example.com/p/{n + 1}?src=tiktok",
                    identity_id=f"69{advertiser.index:05d}{self._seed % 1000:03d}",
                    identity_type="CUSTOMIZED_USER",
                    ad_format="SINGLE_VIDEO" if video else "CAROUSEL_ADS",
                    # Deleting an ad group deletes its ads; now and then one ad alone is.
                    deleted=ad_group.deleted or (k == 1 and v[1] < 0.3),
                    enabled=v[2] > 0.1,
                    create_time=utc_text(created + timedelta(minutes=5 + k)),
                    modify_time=utc_text(
                        created
                        + timedelta(minutes=5 + k, days=int(v[3] * 30), seconds=int(v[4] * 86400))
                    ),
                    position=k,
                    weights=weights,
                )
            )
        return ads

    @staticmethod
    def _regular(c: int) -> Spec:
        return Spec(c, "", 0)

    def _build_campaign(
        self, advertiser: Advertiser, created: datetime, spec: Spec, ad_groups: list[AdGroup]
    ) -> Campaign:
        c = spec.index
        u = uniforms(f"{self._seed}:campaign:{advertiser.index}:{c}")
        objective = spec.objective
        mode = "BUDGET_MODE_TOTAL" if spec.kind else BUDGET_MODES[c % len(BUDGET_MODES)]
        return Campaign(
            campaign_id=self._object_id(18, advertiser.index, c),
            advertiser_id=advertiser.advertiser_id,
            campaign_name=spec.name,
            objective_type=objective,
            deleted=spec.deleted,
            enabled=u[0] > 0.2,
            budget=0.0 if mode == "BUDGET_MODE_INFINITE" else float(100 + int(u[1] * 50) * 20),
            budget_mode=mode,
            create_time=utc_text(created + timedelta(minutes=10 + c % 50)),
            modify_time=utc_text(created + timedelta(days=2 + int(u[2] * 25))),
            adgroup_ids=tuple(g.adgroup_id for g in ad_groups),
            buying_type=spec.buying_type,
            system_origin=spec.system_origin,
        )

    def _build_adgroup(
        self, advertiser: Advertiser, created: datetime, g: int, spec: Spec
    ) -> AdGroup:
        c = spec.index
        u = uniforms(f"{self._seed}:adgroup:{advertiser.index}:{g}")
        converts = spec.objective in CONVERSION_OBJECTIVES
        modified = created + timedelta(days=1 + int(u[5] * 20), seconds=int(u[6] * 86400))
        return AdGroup(
            adgroup_id=self._object_id(19, advertiser.index, g),
            campaign_id=self._object_id(18, advertiser.index, c),
            advertiser_id=advertiser.advertiser_id,
            adgroup_name=f"Ad group {g + 1} - campaign {c + 1}",
            # Deleting a campaign deletes its ad groups.
            deleted=spec.deleted or (not spec.kind and g % 10 == 7),
            enabled=u[4] > 0.15,
            budget=round((20 + int(u[0] * 20) * 10) * advertiser.spend_multiplier, 2),
            budget_mode=BUDGET_MODES[g % 2],
            create_time=utc_text(created + timedelta(hours=1 + g % 24)),
            modify_time=utc_text(modified),
            base_impressions=500 + 9500 * u[1] ** 2,
            base_ctr=0.004 + 0.026 * u[2],
            cpm_cents=(200 + 1300 * u[3]) * advertiser.spend_multiplier,
            base_cvr=0.02 + 0.13 * u[7] if converts else 0.01 * u[7],
            result_is_conversion=converts,
            buying_type=spec.buying_type,
            system_origin=spec.system_origin,
        )

    def ads_of(self, ad_group: AdGroup) -> list[Ad]:
        return self._ads_by_adgroup[ad_group.adgroup_id]

    def advertiser(self, advertiser_id: str) -> Advertiser | None:
        return self._advertiser_by_id.get(advertiser_id)

    def campaign(self, campaign_id: str) -> Campaign | None:
        return self._campaign_by_id.get(campaign_id)

    def adgroup(self, adgroup_id: str) -> AdGroup | None:
        return self._adgroup_by_id.get(adgroup_id)

    @property
    def advertiser_ids(self) -> list[str]:
        return [a.advertiser_id for a in self.advertisers]

    def list_campaigns(self, advertiser_id: str, include_deleted: bool = True) -> list[Campaign]:
        return [c for c in self.campaigns[advertiser_id] if include_deleted or not c.deleted]

    def list_adgroups(self, advertiser_id: str, include_deleted: bool = True) -> list[AdGroup]:
        return [g for g in self.adgroups[advertiser_id] if include_deleted or not g.deleted]

    def adgroups_of(self, campaign: Campaign) -> list[AdGroup]:
        return [self._adgroup_by_id[i] for i in campaign.adgroup_ids]

    # ----- revisions ------------------------------------------------------------------------

    def revise(self, advertiser_id: str, day: date, factor: float) -> None:
        """Scale one advertiser-day's counts (late-attributed conversions, corrections).

        Deterministic: the same revisions give the same numbers. factor 1.0 undoes it.
        """
        if advertiser_id not in self._advertiser_by_id:
            raise KeyError(advertiser_id)
        if factor < 0:
            raise ValueError("factor must not be negative")
        with self._lock:
            if factor == 1.0:
                self._revisions.pop((advertiser_id, day), None)
            else:
                self._revisions[(advertiser_id, day)] = factor

    def clear_revisions(self) -> None:
        with self._lock:
            self._revisions.clear()

    # ----- metrics --------------------------------------------------------------------------

    def leaf(self, ad_group: AdGroup, day: date) -> Totals:
        """Metrics of one ad group on one (advertiser-local) day; zero outside the range."""
        advertiser = self._advertiser_by_id[ad_group.advertiser_id]
        if not advertiser.first_day <= day <= advertiser.last_day:
            return Totals([0] * len(COUNTERS), 0)
        u = uniforms(f"{self._seed}:{ad_group.adgroup_id}:{day.toordinal()}")
        paused = u[7] < 0.03
        impressions = 0
        if not paused:
            weekday = WEEKDAY_FACTOR[day.weekday()]
            impressions = int(ad_group.base_impressions * weekday * (0.6 + 0.8 * u[0]))
        clicks = int(impressions * ad_group.base_ctr * (0.7 + 0.6 * u[1]))
        spend = int(impressions * ad_group.cpm_cents * (0.8 + 0.4 * u[2]) / 1000)
        conversion = int(clicks * ad_group.base_cvr * (0.5 + u[3]) + u[4] * 0.6)
        conversion = min(conversion, clicks)
        plays = int(impressions * (0.25 + 0.35 * u[4]))
        watched_2s = int(plays * (0.5 + 0.3 * u[5]))
        watched_6s = int(watched_2s * (0.35 + 0.3 * u[6]))
        p25 = int(plays * (0.5 + 0.2 * u[6]))
        p50 = int(p25 * 0.6)
        p75 = int(p50 * 0.7)
        likes = int(plays * 0.03 * u[6])
        counters = [
            impressions,
            clicks,
            spend,
            conversion,
            conversion - int(conversion * 0.3 * u[5]),
            conversion if ad_group.result_is_conversion else clicks,
            plays,
            watched_2s,
            watched_6s,
            p25,
            p50,
            p75,
            int(p75 * 0.75),
            likes,
            likes // 9,
            likes // 7,
            likes // 20,
            int(clicks * 0.15 * u[7]),
            plays * (30 + int(50 * u[5])),
        ]
        reach = int(impressions / (1.05 + 0.55 * u[1]))
        factor = self._revisions.get((ad_group.advertiser_id, day))
        if factor is not None:
            counters = [int(value * factor) for value in counters]
            reach = int(reach * factor)
        # About 3% of ad-group days have no reach figure ("-").
        return Totals(counters, reach, reach_known=u[7] <= 0.97)

    def ad_leaf(self, ad: Ad, day: date) -> Totals:
        """An ad's share of its ad group's leaf: the shares of one ad group add up exactly."""
        group = self.leaf(self._adgroup_by_id[ad.adgroup_id], day)
        total, last = sum(ad.weights), len(ad.weights) - 1

        def share(value: int, k: int) -> int:
            return value * ad.weights[k] // total

        if ad.position < last:
            counters = [share(value, ad.position) for value in group.counters]
        else:
            counters = [
                value - sum(share(value, k) for k in range(last)) for value in group.counters
            ]
        reach = min(group.reach, counters[INDEX["impressions"]])
        return Totals(counters, reach * ad.weights[ad.position] // total, group.reach_known)

    def aggregate_ads(self, ads: Sequence[Ad], days: Sequence[date]) -> Totals:
        if len(ads) == 1 and len(days) == 1:
            return self.ad_leaf(ads[0], days[0])
        return combine(self.ad_leaf(ad, d) for ad in ads for d in days)

    def aggregate(self, ad_groups: Sequence[AdGroup], days: Sequence[date]) -> Totals:
        if len(ad_groups) == 1 and len(days) == 1:  # the common ad-group-day row: no summing
            return self.leaf(ad_groups[0], days[0])
        return combine(self.leaf(g, d) for g in ad_groups for d in days)

    # ----- expected results for tests -------------------------------------------------------

    def report_groups(
        self, level: str, advertiser_id: str, include_deleted: bool
    ) -> list[tuple[str, list[AdGroup]]]:
        """(row id, ad groups summed into it) for each object the report has rows for."""
        if level == LEVEL_ADVERTISER:
            return [(advertiser_id, self.adgroups[advertiser_id])]
        if level == LEVEL_CAMPAIGN:
            return [
                (c.campaign_id, self.adgroups_of(c))
                for c in self.list_campaigns(advertiser_id, include_deleted)
                if c.adgroup_ids
            ]
        if level == LEVEL_ADGROUP:
            return [(g.adgroup_id, [g]) for g in self.list_adgroups(advertiser_id, include_deleted)]
        if level == LEVEL_AD:
            # Ad rows carry the ad's share; their sum per ad group is the ad group's leaf.
            return [
                (ad.ad_id, [self._adgroup_by_id[ad.adgroup_id]])
                for ad in self.ads[advertiser_id]
                if include_deleted or not ad.deleted
            ]
        raise ValueError(f"unknown data level {level}")

    def days_with_data(self, advertiser_id: str, start: date, end: date) -> list[date]:
        advertiser = self._advertiser_by_id[advertiser_id]
        first, last = max(start, advertiser.first_day), min(end, advertiser.last_day)
        return [first + timedelta(days=i) for i in range((last - first).days + 1)]

    def report_row_count(  # noqa: PLR0917 - mirrors the report parameters
        self,
        level: str,
        advertiser_id: str,
        start: date,
        end: date,
        include_deleted: bool = True,
        daily: bool = True,
    ) -> int:
        """Rows a report with dimensions [<level id>, stat_time_day] (or no day) returns."""
        days = len(self.days_with_data(advertiser_id, start, end))
        groups = len(self.report_groups(level, advertiser_id, include_deleted))
        if not days:
            return 0
        return groups * days if daily else groups

    def report_totals(
        self,
        level: str,
        advertiser_id: str,
        start: date,
        end: date,
        include_deleted: bool = True,
    ) -> dict[str, int | Decimal]:
        """Sums of the additive metrics over every row of such a report (spend as Decimal)."""
        days = self.days_with_data(advertiser_id, start, end)
        if level == LEVEL_AD:
            ads = [ad for ad in self.ads[advertiser_id] if include_deleted or not ad.deleted]
            totals = self.aggregate_ads(ads, days)
        else:
            ad_groups = [
                g
                for _, groups in self.report_groups(level, advertiser_id, include_deleted)
                for g in groups
            ]
            totals = self.aggregate(ad_groups, days)
        result: dict[str, int | Decimal] = {}
        for name in ADDITIVE_METRICS:
            value = totals.counters[INDEX[name]]
            result[name] = Decimal(format_cents(value)) if name == "spend" else value
        return result
