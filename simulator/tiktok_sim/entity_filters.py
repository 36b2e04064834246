"""``filtering`` of /campaign/get/, /adgroup/get/ and /ad/get/ as each page documents it.

* campaign/get (doc 1739315828649986): deleted campaigns only with ``primary_status``
  STATUS_DELETE or ``secondary_status`` CAMPAIGN_STATUS_DELETE; STATUS_ALL is not documented
  there (40002 when ``documented_filters_only``).
* adgroup/get (doc 1739314558673922): ``primary_status`` STATUS_ALL includes deleted ones.
* Both: ``buying_types`` defaults to [AUCTION, RESERVATION_RF] and RESERVATION_TOP_VIEW must be
  requested alone; ``campaign_system_origins`` defaults to [TT_ADS_PLATFORM] (add PROMOTE).
  With RESERVATION_TOP_VIEW, adgroup/get pages hold at most 100.
* ad/get (doc 1735735588640770; the official SDK's FilteringAdGet): ad, ad group and campaign
  ids, ``primary_status`` (STATUS_ALL includes deleted ads), ``secondary_status``,
  ``objective_type``, ``billing_events`` and a creation time range. It documents no
  ``buying_types``/``campaign_system_origins`` and no modification-time filter, so the
  simulator hides no ads by buying type or origin.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tiktok_sim.kinds import ADS_PLATFORM, AUCTION, BUYING_TYPES, ORIGINS, RESERVATION_RF, TOP_VIEW
from tiktok_sim.params import param_error

PRIMARY_STATUSES = (
    "STATUS_ALL",
    "STATUS_NOT_DELETE",
    "STATUS_DELETE",
    "STATUS_DELIVERY_OK",
    "STATUS_DISABLE",
    "STATUS_NOT_DELIVERY",
    "STATUS_TIME_DONE",
    "STATUS_RF_CLOSED",
    "STATUS_FROZEN",
)
MAX_IDS = 100
TOP_VIEW_MAX_PAGE_SIZE = 100
# Filter fields each page documents; the simulator acts on the ones its data has.
CAMPAIGN_FILTERS = frozenset(
    {
        "campaign_automation_type",
        "campaign_ids",
        "campaign_name",
        "campaign_system_origins",
        "primary_status",
        "secondary_status",
        "objective_type",
        "sales_destination",
        "buying_types",
        "is_smart_performance_campaign",
        "creative_campaign_type",
        "split_test_enabled",
        "campaign_product_source",
        "optimization_goal",
        "campaign_type",
        "creation_filter_start_time",
        "creation_filter_end_time",
        "gmv_max_promotion_types",
        "store_ids",
    }
)
ADGROUP_FILTERS = frozenset(
    {
        "campaign_automation_type",
        "campaign_ids",
        "campaign_system_origins",
        "adgroup_ids",
        "adgroup_name",
        "primary_status",
        "secondary_status",
        "objective_type",
        "buying_types",
        "optimization_goal",
        "promotion_type",
        "bid_strategy",
        "creative_material_mode",
        "billing_events",
        "creation_filter_start_time",
        "creation_filter_end_time",
        "split_test_enabled",
    }
)
AD_FILTERS = frozenset(
    {
        "ad_ids",
        "adgroup_ids",
        "campaign_ids",
        "billing_events",
        "creation_filter_start_time",
        "creation_filter_end_time",
        "objective_type",
        "primary_status",
        "secondary_status",
    }
)
DELETED_SECONDARY = frozenset(
    {
        "CAMPAIGN_STATUS_DELETE",
        "ADGROUP_STATUS_DELETE",
        "ADGROUP_STATUS_CAMPAIGN_DELETE",
        "AD_STATUS_DELETE",
        "AD_STATUS_ADGROUP_DELETE",
        "AD_STATUS_CAMPAIGN_DELETE",
    }
)
DOCUMENTED = {"campaign": CAMPAIGN_FILTERS, "adgroup": ADGROUP_FILTERS, "ad": AD_FILTERS}


@dataclass(frozen=True)
class EntityFilters:
    primary_status: str | None
    secondary_status: str | None
    buying_types: frozenset[str]
    origins: frozenset[str]
    campaign_ids: frozenset[str] | None
    adgroup_ids: frozenset[str] | None
    name: str | None
    objective_type: str | None
    created_from: str | None
    created_to: str | None
    top_view: bool  # buying_types ["RESERVATION_TOP_VIEW"] asked for (pages of 100 at most)
    ad_ids: frozenset[str] | None = None

    def keeps(  # noqa: PLR0917 - the object's filterable properties
        self,
        deleted: bool,
        primary: str,
        secondary: str | None,
        buying_type: str,
        origin: str,
        ids: tuple[str, str | None],
        name: str,
        objective: str,
        created: str,
    ) -> bool:
        campaign_id, adgroup_id = ids
        checks = (
            self._status_kept(deleted, primary, secondary),
            buying_type in self.buying_types,
            origin in self.origins,
            self.campaign_ids is None or campaign_id in self.campaign_ids,
            self.adgroup_ids is None or adgroup_id in self.adgroup_ids,
            self.name is None or self.name.lower() in name.lower(),
            self.objective_type is None or objective == self.objective_type,
            self.created_from is None or created >= self.created_from,
            self.created_to is None or created <= self.created_to,
        )
        return all(checks)

    def _status_kept(self, deleted: bool, primary: str, secondary: str | None) -> bool:
        if self.secondary_status is not None:
            if self.secondary_status in DELETED_SECONDARY:
                if not deleted:
                    return False
            elif secondary != self.secondary_status:
                return False
        status = self.primary_status
        if status is None:  # default: not deleted, unless a deleted secondary status is asked
            return self.secondary_status in DELETED_SECONDARY or not deleted
        if status == "STATUS_ALL":
            return True
        if status == "STATUS_NOT_DELETE":
            return not deleted
        return primary == status


def _id_set(filtering: dict[str, Any], name: str) -> frozenset[str] | None:
    values = filtering.get(name)
    if values is None:
        return None
    if not isinstance(values, list):
        raise param_error(f"filtering.{name}: Not a valid list.")
    if len(values) > MAX_IDS:
        raise param_error(f"filtering.{name}: At most {MAX_IDS} ids, got {len(values)}.")
    return frozenset(str(v) for v in values)


def _choices(
    filtering: dict[str, Any], name: str, allowed: tuple[str, ...], default: frozenset[str]
) -> frozenset[str]:
    values = filtering.get(name)
    if values is None:
        return default
    if not isinstance(values, list) or not values or any(v not in allowed for v in values):
        raise param_error(f"filtering.{name}: Must be a non-empty list of {', '.join(allowed)}.")
    return frozenset(str(v) for v in values)


def _text(filtering: dict[str, Any], name: str) -> str | None:
    value = filtering.get(name)
    return None if value is None else str(value)


def parse_entity_filters(
    filtering: dict[str, Any], endpoint: str, hide_special: bool, documented_only: bool
) -> EntityFilters:
    """``endpoint`` is "campaign", "adgroup" or "ad"."""
    documented = DOCUMENTED[endpoint]
    unknown = sorted(set(filtering) - documented)
    if unknown and documented_only:
        raise param_error(f"filtering: Unknown filter field(s) {', '.join(unknown)}.")
    primary = _text(filtering, "primary_status")
    if primary is not None and primary not in PRIMARY_STATUSES:
        raise param_error(f"filtering.primary_status: Invalid value {primary}.")
    if primary == "STATUS_ALL" and endpoint == "campaign" and documented_only:
        raise param_error(
            "filtering.primary_status: STATUS_ALL is not supported by /campaign/get/; to get "
            "deleted campaigns use primary_status STATUS_DELETE or secondary_status "
            "CAMPAIGN_STATUS_DELETE."
        )
    # ad/get has no filter to reveal TopView/Promote ads, so it hides none.
    hide_special = hide_special and endpoint != "ad"
    buying_default = (
        frozenset({AUCTION, RESERVATION_RF}) if hide_special else frozenset(BUYING_TYPES)
    )
    buying = _choices(filtering, "buying_types", BUYING_TYPES, buying_default)
    if "buying_types" in filtering and TOP_VIEW in buying and len(buying) > 1:
        raise param_error(
            "filtering.buying_types: RESERVATION_TOP_VIEW cannot be combined with other values; "
            'use ["RESERVATION_TOP_VIEW"].'
        )
    origin_default = frozenset({ADS_PLATFORM}) if hide_special else frozenset(ORIGINS)
    name_field = "campaign_name" if endpoint == "campaign" else "adgroup_name"
    return EntityFilters(
        primary_status=primary,
        secondary_status=_text(filtering, "secondary_status"),
        buying_types=buying,
        origins=_choices(filtering, "campaign_system_origins", ORIGINS, origin_default),
        campaign_ids=_id_set(filtering, "campaign_ids"),
        adgroup_ids=_id_set(filtering, "adgroup_ids") if endpoint != "campaign" else None,
        name=_text(filtering, name_field) if endpoint != "ad" else None,
        objective_type=_text(filtering, "objective_type"),
        created_from=_text(filtering, "creation_filter_start_time"),
        created_to=_text(filtering, "creation_filter_end_time"),
        top_view="buying_types" in filtering and TOP_VIEW in buying,
        ad_ids=_id_set(filtering, "ad_ids") if endpoint == "ad" else None,
    )
