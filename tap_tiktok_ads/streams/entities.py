"""Entity streams: the advertisers, and their campaigns and ad groups (deleted included)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property
from typing import Any, ClassVar

from singer_sdk.helpers.types import Context

from tap_tiktok_ads import schemas
from tap_tiktok_ads.client import AdvertiserPartitionedStream, TikTokStream, encode_query
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
    """Campaigns and ad groups, paged; deleted objects included on request."""

    id_field: ClassVar[str]
    _NUMERIC_FIELDS = ("budget",)
    _TIME_FIELDS = ("create_time", "modify_time")

    @cached_property
    def entity_fields(self) -> list[str]:
        """The fields to request: the schema's, less the partition's advertiser_id."""
        return [name for name in self.schema["properties"] if name != "advertiser_id"]

    def get_url_params(
        self, context: Context | None, next_page_token: int | None
    ) -> dict[str, Any]:
        assert context is not None
        params: dict[str, Any] = {
            "advertiser_id": context["advertiser_id"],
            "page": next_page_token or 1,
            "page_size": self.config["page_size"],
            "fields": self.entity_fields,
        }
        if self.config["include_deleted"]:
            # Deleted objects still carry spend in reports; without them totals fall short.
            params["filtering"] = {"primary_status": "STATUS_ALL"}
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


class AdGroupsStream(EntityStream):
    name = "ad_groups"
    path = "/adgroup/get/"
    primary_keys: ClassVar[list[str]] = ["advertiser_id", "adgroup_id"]
    replication_key = None
    schema = schemas.AD_GROUPS
    id_field = "adgroup_id"
