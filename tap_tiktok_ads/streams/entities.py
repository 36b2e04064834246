"""Entity streams: the advertisers, and their campaigns, ad groups and ads (deleted, TopView and
Promote included: see ``entity_queries``)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property
from typing import Any, ClassVar

from singer_sdk.helpers.types import Context

from tap_tiktok_ads import schemas
from tap_tiktok_ads.client import AdvertiserPartitionedStream, TikTokStream, encode_query
from tap_tiktok_ads.entity_queries import EntityPass, ad_passes, adgroup_passes, campaign_passes
from tap_tiktok_ads.values import LOGGER, api_time_to_iso, to_number


class AdvertiserInfoStream(TikTokStream):
    name = "advertiser_info"
    path = "/advertiser/info/"
    primary_keys: ClassVar[list[str]] = ["advertiser_id"]
    replication_key = None
    schema = schemas.ADVERTISER_INFO

    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:  # noqa: ARG002
        for row in self._tap.advertisers.details():
            yield {
                "advertiser_id": str(row["advertiser_id"]),
                "name": row.get("name"),
                "currency": row.get("currency"),
                "timezone": row.get("timezone"),
                "display_timezone": row.get("display_timezone"),
                "status": row.get("status"),
                "create_time": api_time_to_iso(row.get("create_time")),
            }


class EntityStream(AdvertiserPartitionedStream):
    """Campaigns and ad groups, paged, in the filtered passes their endpoint needs."""

    id_field: ClassVar[str]
    _NUMERIC_FIELDS: tuple[str, ...] = ("budget",)
    _TIME_FIELDS = ("create_time", "modify_time")

    @cached_property
    def entity_fields(self) -> list[str]:
        """The fields to request: the schema's, less the partition's advertiser_id."""
        return [name for name in self.schema["properties"] if name != "advertiser_id"]

    def passes(self) -> list[EntityPass]:
        """The filtered listings that together return every object."""
        raise NotImplementedError

    @cached_property
    def _passes_by_name(self) -> dict[str, EntityPass]:
        return {entity_pass.name: entity_pass for entity_pass in self.passes()}

    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        assert context is not None
        seen: set[str] = set()
        for name in self._passes_by_name:
            # The pass travels in the request context by name (contexts end up in logs).
            for row in super().get_records({**context, "entity_pass": name}):
                object_id = row.get(self.id_field) if isinstance(row, dict) else None
                if object_id is not None:
                    if str(object_id) in seen:
                        continue
                    seen.add(str(object_id))
                yield row

    def get_url_params(
        self, context: Context | None, next_page_token: int | None
    ) -> dict[str, Any]:
        assert context is not None
        entity_pass = self._passes_by_name[context["entity_pass"]]
        params: dict[str, Any] = {
            "advertiser_id": context["advertiser_id"],
            "page": next_page_token or 1,
            "page_size": entity_pass.page_size(int(self.config["page_size"])),
            "fields": self.entity_fields,
            "filtering": entity_pass.filtering,
        }
        return encode_query(params)

    def post_process(
        self, row: dict[str, Any], context: Context | None = None
    ) -> dict[str, Any] | None:
        assert context is not None
        if not row.get(self.id_field):
            LOGGER.warning("Skipping a %s row without %s", self.name, self.id_field)
            return None
        record = {name: row.get(name) for name in self.entity_fields}
        record["advertiser_id"] = context["advertiser_id"]
        record[self.id_field] = str(row[self.id_field])
        for name in self._NUMERIC_FIELDS:
            record[name] = to_number(name, record.get(name))
        for name in self._TIME_FIELDS:
            record[name] = api_time_to_iso(record.get(name))
        return record


class CampaignsStream(EntityStream):
    name = "campaigns"
    path = "/campaign/get/"
    primary_keys: ClassVar[list[str]] = ["advertiser_id", "campaign_id"]
    replication_key = None
    schema = schemas.CAMPAIGNS
    id_field = "campaign_id"

    def passes(self) -> list[EntityPass]:
        return campaign_passes(include_deleted=bool(self.config["include_deleted"]))


class AdGroupsStream(EntityStream):
    name = "ad_groups"
    path = "/adgroup/get/"
    primary_keys: ClassVar[list[str]] = ["advertiser_id", "adgroup_id"]
    replication_key = None
    schema = schemas.AD_GROUPS
    id_field = "adgroup_id"

    def passes(self) -> list[EntityPass]:
        return adgroup_passes(include_deleted=bool(self.config["include_deleted"]))


class AdsStream(EntityStream):
    """Ads with their creative fields, incremental on ``modify_time``.

    ``ad/get`` has no modification-time filter (only a creation-time range), so every run
    lists the advertiser's ads (the same requests as a full listing) and emits only those
    modified at or after the bookmark; the first run emits all of them.
    """

    name = "ads"
    path = "/ad/get/"
    primary_keys: ClassVar[list[str]] = ["advertiser_id", "ad_id"]
    replication_key = "modify_time"
    is_sorted = False
    selected_by_default = False
    schema = schemas.ADS
    id_field = "ad_id"
    _NUMERIC_FIELDS = ()

    def passes(self) -> list[EntityPass]:
        return ad_passes(include_deleted=bool(self.config["include_deleted"]))

    def post_process(
        self, row: dict[str, Any], context: Context | None = None
    ) -> dict[str, Any] | None:
        record = super().post_process(row, context)
        if record is None:
            return None
        record["image_ids"] = [str(i) for i in record.get("image_ids") or []]
        # An ad never modified may come without modify_time (seen by peer connectors).
        record["modify_time"] = record.get("modify_time") or record.get("create_time")
        assert context is not None
        bookmark = self.get_context_state(context).get("replication_key_value")
        modified = record.get("modify_time")
        if bookmark and modified and str(modified) < str(bookmark):
            return None  # unchanged since the last run
        return record
