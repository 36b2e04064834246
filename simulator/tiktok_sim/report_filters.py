"""The ``filtering`` of /report/integrated/get/: fields, operators, and what they keep.

Filters apply to the ad-group leaves a report sums (a campaign row with an ``adgroup_ids``
filter sums only those ad groups). The documented ``filter_type`` operators (sync report doc
1740302848100353) are all accepted: IN, NOT_IN, CONTAIN_ANY_OF (fuzzy), MATCH (like %v%),
GREATER_EQUAL, GREATER_THAN, LOWER_EQUAL, LOWER_THAN, BETWEEN.

TopView rows come only with a ``buying_type`` filter that includes RESERVATION_TOP_VIEW, and
Promote rows only with a ``campaign_system_origins`` filter that includes PROMOTE (docs
1740302848100353 ``service_type`` note, Promote guide 1785880454546433) when
``hide_special_campaigns`` is on.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tiktok_sim.dataset import LEVEL_AD, LEVEL_ADGROUP, LEVEL_CAMPAIGN, Ad, AdGroup, Campaign
from tiktok_sim.kinds import ADS_PLATFORM, AUCTION, BUYING_TYPES, ORIGINS, RESERVATION_RF
from tiktok_sim.params import param_error

STATUS_FILTER_FIELD = {
    LEVEL_CAMPAIGN: "campaign_status",
    LEVEL_ADGROUP: "adgroup_status",
    LEVEL_AD: "ad_status",
}
LIST_OPERATORS = frozenset({"IN", "NOT_IN", "CONTAIN_ANY_OF", "BETWEEN"})
OPERATORS = LIST_OPERATORS | {"MATCH", "GREATER_EQUAL", "GREATER_THAN", "LOWER_EQUAL", "LOWER_THAN"}
MAX_FILTER_IDS = 100  # "you can pass in up to 100 IDs at a time"

# Filter field -> the value of an (ad group, campaign) leaf it compares with.
LEAF_VALUES: dict[str, Callable[[AdGroup, Campaign], str]] = {
    "campaign_ids": lambda g, _c: g.campaign_id,
    "adgroup_ids": lambda g, _c: g.adgroup_id,
    "campaign_name": lambda _g, c: c.campaign_name,
    "adgroup_name": lambda g, _c: g.adgroup_name,
    "objective_type": lambda _g, c: c.objective_type,
    "create_time": lambda g, _c: g.create_time,
}
ID_FIELDS = frozenset({"campaign_ids", "adgroup_ids"})


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    values: tuple[str, ...]

    def test(self, value: str) -> bool:
        if self.op == "IN":
            return value in self.values
        if self.op == "NOT_IN":
            return value not in self.values
        if self.op in ("CONTAIN_ANY_OF", "MATCH"):
            return any(v.lower() in value.lower() for v in self.values)
        if self.op == "BETWEEN":
            return self._compare(value, self.values[0]) >= 0 >= self._compare(value, self.values[1])
        order = self._compare(value, self.values[0])
        return {
            "GREATER_EQUAL": order >= 0,
            "GREATER_THAN": order > 0,
            "LOWER_EQUAL": order <= 0,
            "LOWER_THAN": order < 0,
        }[self.op]

    @staticmethod
    def _compare(value: str, bound: str) -> int:
        """Numbers as numbers, anything else (times "YYYY-MM-DD HH:MM:SS") as text."""
        left, right = _number(value), _number(bound)
        if left is not None and right is not None:
            return (left > right) - (left < right)
        return (value > bound) - (value < bound)


@dataclass(frozen=True)
class ReportFilters:
    deleted: str  # "exclude" (default), "include" (STATUS_ALL) or "only" (STATUS_DELETE)
    conditions: tuple[Condition, ...]
    buying_types: frozenset[str]
    origins: frozenset[str]
    #: ``ad_ids`` conditions (AUCTION_AD only): they pick ads, not ad-group leaves.
    ad_conditions: tuple[Condition, ...] = ()

    def keeps_ad(self, ad: Ad) -> bool:
        return all(c.test(ad.ad_id) for c in self.ad_conditions)

    def keeps(self, ad_group: AdGroup, campaign: Campaign) -> bool:
        if campaign.buying_type not in self.buying_types:
            return False
        if campaign.system_origin not in self.origins:
            return False
        return all(c.test(LEAF_VALUES[c.field](ad_group, campaign)) for c in self.conditions)


def _values(item: dict[str, Any], op: str) -> tuple[str, ...]:
    value = item.get("filter_value")
    if op in LIST_OPERATORS:
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                value = None
        if not isinstance(value, list) or not value:
            raise param_error(
                f"filtering: filter_value of a {op} filter must be a JSON-encoded non-empty array."
            )
        if op == "BETWEEN" and len(value) != 2:
            raise param_error("filtering: filter_value of a BETWEEN filter needs exactly 2 values.")
        return tuple(str(v) for v in value)
    if value is None or isinstance(value, list | dict) or value == "":
        raise param_error(f"filtering: filter_value of a {op} filter must be a single value.")
    return (str(value),)


def _choice(
    field: str, op: str, values: tuple[str, ...], allowed: tuple[str, ...]
) -> frozenset[str]:
    unknown = [v for v in values if v not in allowed]
    if unknown or op not in ("IN", "NOT_IN"):
        raise param_error(
            f"filtering: Invalid {field} filter; use IN or NOT_IN with {', '.join(allowed)}."
        )
    return frozenset(values) if op == "IN" else frozenset(allowed) - set(values)


def _deleted_mode(field_name: str, op: str, values: tuple[str, ...]) -> str:
    if op == "IN" and "STATUS_ALL" in values:
        return "include"
    if op == "IN" and values == ("STATUS_DELETE",):
        return "only"
    if op == "IN" and values == ("STATUS_NOT_DELETE",):
        return "exclude"
    raise param_error(f"filtering: Invalid filter_value {list(values)} for {field_name}.")


def parse_filters(items: list[Any] | None, level: str, hide_special: bool) -> ReportFilters:
    deleted = "exclude"
    conditions: list[Condition] = []
    ad_conditions: list[Condition] = []
    buying_types = frozenset({AUCTION, RESERVATION_RF}) if hide_special else frozenset(BUYING_TYPES)
    origins = frozenset({ADS_PLATFORM}) if hide_special else frozenset(ORIGINS)
    for item in items or []:
        if not isinstance(item, dict):
            raise param_error("filtering: Every filter must be an object.")
        field_name = str(item.get("field_name"))
        op = str(item.get("filter_type", "IN"))
        if op not in OPERATORS:
            raise param_error(
                f"filtering: filter_type {op} is not supported; use one of "
                f"{', '.join(sorted(OPERATORS))}."
            )
        values = _values(item, op)
        if field_name == STATUS_FILTER_FIELD.get(level):
            deleted = _deleted_mode(field_name, op, values)
        elif field_name == "buying_type":
            buying_types = _choice(field_name, op, values, BUYING_TYPES)
        elif field_name == "campaign_system_origins":
            origins = _choice(field_name, op, values, ORIGINS)
        elif field_name in LEAF_VALUES or (field_name == "ad_ids" and level == LEVEL_AD):
            if (field_name in ID_FIELDS or field_name == "ad_ids") and len(values) > MAX_FILTER_IDS:
                raise param_error(
                    f"filtering: {field_name} takes at most {MAX_FILTER_IDS} ids, "
                    f"got {len(values)}."
                )
            target = ad_conditions if field_name == "ad_ids" else conditions
            target.append(Condition(field_name, op, values))
        else:
            raise param_error(f"filtering: Invalid field_name {field_name} for data_level {level}.")
    return ReportFilters(deleted, tuple(conditions), buying_types, origins, tuple(ad_conditions))
