"""The Marketing API endpoints under /open_api/v1.3: each returns the envelope's ``data``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tiktok_sim.auth import AuthError, IssuedTokens, TokenStore
from tiktok_sim.config import SimConfig
from tiktok_sim.dataset import Ad, AdGroup, Campaign, Dataset
from tiktok_sim.entity_filters import TOP_VIEW_MAX_PAGE_SIZE, EntityFilters, parse_entity_filters
from tiktok_sim.kinds import PROMOTE
from tiktok_sim.params import ApiError, Params, param_error
from tiktok_sim.report import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, parse_report_query, report_page
from tiktok_sim.shapes import (
    ad_status,
    adgroup_status,
    campaign_status,
    primary_status,
    secondary_left_out,
)
from tiktok_sim.tasks import CSV_TYPE, TaskBoard

MAX_ADVERTISER_IDS = 100
SCOPES = [1, 2, 3, 4, 5, 6]

ADVERTISER_FIELDS = (
    "advertiser_id",
    "name",
    "currency",
    "timezone",
    "display_timezone",
    "status",
    "create_time",
    "company",
    "country",
    "role",
)
CAMPAIGN_FIELDS = (
    "advertiser_id",
    "campaign_id",
    "campaign_name",
    "objective_type",
    "operation_status",
    "secondary_status",
    "budget",
    "budget_mode",
    "create_time",
    "modify_time",
    "campaign_system_origin",
)
ADGROUP_FIELDS = (
    "advertiser_id",
    "campaign_id",
    "adgroup_id",
    "adgroup_name",
    "operation_status",
    "secondary_status",
    "budget",
    "budget_mode",
    "create_time",
    "modify_time",
    "campaign_system_origin",
)
# ad/get's fields (doc 1735735588640770), the creative ones the simulator has.
AD_FIELDS = (
    "advertiser_id",
    "campaign_id",
    "campaign_name",
    "adgroup_id",
    "adgroup_name",
    "ad_id",
    "ad_name",
    "ad_text",
    "call_to_action",
    "video_id",
    "image_ids",
    "landing_page_url",
    "display_name",
    "identity_id",
    "identity_type",
    "ad_format",
    "operation_status",
    "secondary_status",
    "create_time",
    "modify_time",
)
# The only settings campaign/get and adgroup/get return for Promote objects (docs
# 1739315828649986, 1739314558673922), plus campaign_system_origin.
PROMOTE_CAMPAIGN_FIELDS = frozenset(
    {
        "advertiser_id",
        "campaign_id",
        "create_time",
        "campaign_name",
        "operation_status",
        "secondary_status",
        "campaign_system_origin",
    }
)
PROMOTE_ADGROUP_FIELDS = frozenset(
    {
        "advertiser_id",
        "campaign_id",
        "campaign_name",
        "adgroup_id",
        "adgroup_name",
        "create_time",
        "budget",
        "schedule_type",
        "schedule_start_time",
        "schedule_end_time",
        "operation_status",
        "secondary_status",
        "campaign_system_origin",
    }
)


@dataclass(frozen=True)
class Reply:
    """Endpoint data plus response headers (the report's X-Tt-Ads-Throttle)."""

    data: dict[str, Any]
    headers: dict[str, str]
    #: A body sent as it is instead of the envelope (an async report's CSV file).
    raw: bytes | None = None
    content_type: str = ""


@dataclass(frozen=True)
class Route:
    method: str
    handler: Callable[[Params, frozenset[str]], dict[str, Any] | Reply]
    needs_token: bool = True


class Api:
    """Endpoint handlers. ``allowed`` is the set of advertisers the Access-Token may read."""

    def __init__(self, config: SimConfig, dataset: Dataset, tokens: TokenStore) -> None:
        self.config = config
        self.dataset = dataset
        self.tokens = tokens
        self.routes: dict[str, Route] = {
            "/oauth2/advertiser/get/": Route("GET", self.authorized_advertisers),
            "/oauth2/access_token/": Route("POST", self.access_token, needs_token=False),
            "/oauth2/refresh_token/": Route("POST", self.refresh_token, needs_token=False),
            "/advertiser/info/": Route("GET", self.advertiser_info),
            "/campaign/get/": Route("GET", self.campaign_get),
            "/adgroup/get/": Route("GET", self.adgroup_get),
            "/ad/get/": Route("GET", self.ad_get),
            "/report/integrated/get/": Route("GET", self.report),
            "/report/task/create/": Route("POST", self.task_create),
            "/report/task/check/": Route("GET", self.task_check),
            "/report/task/download/": Route("GET", self.task_download),
            "/report/task/cancel/": Route("POST", self.task_cancel),
        }
        self.tasks = TaskBoard(config, dataset)
        #: The server's base URL (download links), set by the server once it knows its port.
        self.base_url: Callable[[], str] = lambda: ""

    def call(self, route: Route, params: Params, access_token: str | None) -> Reply:
        try:
            allowed = (
                self.tokens.check_access_token(access_token) if route.needs_token else frozenset()
            )
            result = route.handler(params, allowed)
        except AuthError as error:
            raise ApiError(error.code, error.message) from None
        return result if isinstance(result, Reply) else Reply(result, {})

    # ----- helpers --------------------------------------------------------------------------

    def _advertiser_id(self, params: Params, allowed: frozenset[str]) -> str:
        advertiser_id = params.required_text("advertiser_id")
        if advertiser_id not in allowed or self.dataset.advertiser(advertiser_id) is None:
            raise ApiError(
                40001,
                f"No permission to operate advertiser {advertiser_id}: it is not authorized "
                "for this access token.",
            )
        return advertiser_id

    @staticmethod
    def _fields(params: Params, known: tuple[str, ...]) -> tuple[str, ...]:
        fields = params.string_list("fields")
        if not fields:
            return known
        for name in fields:
            if name not in known:
                raise param_error(f"fields: Invalid field {name}.")
        return tuple(fields)

    @staticmethod
    def _page(
        params: Params, items: list[dict[str, Any]], max_page_size: int = MAX_PAGE_SIZE
    ) -> dict[str, Any]:
        page = params.integer("page", 1, 1, 1_000_000_000)
        page_size = params.integer("page_size", DEFAULT_PAGE_SIZE, 1, max_page_size)
        start = (page - 1) * page_size
        return {
            "list": items[start : start + page_size],
            "page_info": {
                "page": page,
                "page_size": page_size,
                "total_number": len(items),
                "total_page": -(-len(items) // page_size),
            },
        }

    @staticmethod
    def _issued(tokens: IssuedTokens) -> dict[str, Any]:
        data: dict[str, Any] = {
            "access_token": tokens.access_token,
            "advertiser_ids": tokens.advertiser_ids,
            "scope": SCOPES,
        }
        if tokens.refresh_token is not None:
            data["access_token_expire_in"] = tokens.access_expires_in
            data["refresh_token"] = tokens.refresh_token
            data["refresh_token_expire_in"] = tokens.refresh_expires_in
        return data

    # ----- OAuth ----------------------------------------------------------------------------

    def authorized_advertisers(self, params: Params, allowed: frozenset[str]) -> dict[str, Any]:
        self._check_app(params)
        return {
            "list": [
                {"advertiser_id": a.advertiser_id, "advertiser_name": a.name}
                for a in self.dataset.advertisers
                if a.advertiser_id in allowed
            ]
        }

    def _check_app(self, params: Params) -> None:
        try:
            self.tokens.check_app(params.raw("app_id"), params.raw("secret"))
        except AuthError as error:
            raise ApiError(error.code, error.message) from None

    def access_token(self, params: Params, _allowed: frozenset[str]) -> dict[str, Any]:
        self._check_app(params)
        return self._issued(self.tokens.redeem_auth_code(params.raw("auth_code")))

    def refresh_token(self, params: Params, _allowed: frozenset[str]) -> dict[str, Any]:
        self._check_app(params)
        if params.raw("grant_type") != "refresh_token":
            raise param_error('grant_type: Must be "refresh_token".')
        return self._issued(self.tokens.refresh(params.raw("refresh_token")))

    # ----- entities -------------------------------------------------------------------------

    def advertiser_info(self, params: Params, allowed: frozenset[str]) -> dict[str, Any]:
        ids = params.string_list("advertiser_ids", required=True) or []
        if not ids:
            raise param_error("advertiser_ids: Must not be empty.")
        if len(ids) > MAX_ADVERTISER_IDS:
            raise param_error(
                f"advertiser_ids: At most {MAX_ADVERTISER_IDS} ids per request, got {len(ids)}."
            )
        fields = self._fields(params, ADVERTISER_FIELDS)
        rows = []
        for advertiser_id in ids:
            advertiser = self.dataset.advertiser(advertiser_id)
            if advertiser is None or advertiser_id not in allowed:
                raise ApiError(40001, f"No permission to operate advertiser {advertiser_id}.")
            record: dict[str, Any] = {
                "advertiser_id": advertiser.advertiser_id,
                "name": advertiser.name,
                "currency": advertiser.currency,
                "timezone": advertiser.timezone,
                "display_timezone": advertiser.timezone,
                "status": "STATUS_ENABLE",
                "create_time": advertiser.create_time,
                "company": f"Sim Company {advertiser.index + 1}",
                "country": "US",
                "role": "ROLE_ADVERTISER",
            }
            rows.append({name: record[name] for name in fields})
        return {"list": rows}

    def _entity_filters(self, params: Params, endpoint: str) -> EntityFilters:
        return parse_entity_filters(
            params.json_object("filtering") or {},
            endpoint,
            self.config.hide_special_campaigns,
            self.config.documented_filters_only,
        )

    def campaign_get(self, params: Params, allowed: frozenset[str]) -> dict[str, Any]:
        advertiser_id = self._advertiser_id(params, allowed)
        fields = self._fields(params, CAMPAIGN_FIELDS)
        filters = self._entity_filters(params, "campaign")
        shapes = self.config.real_value_shapes
        items = []
        for c in self.dataset.campaigns[advertiser_id]:
            secondary = campaign_status(c, shapes)
            if filters.keeps(
                c.deleted,
                primary_status(c.deleted, c.enabled, secondary),
                secondary,
                c.buying_type,
                c.system_origin,
                (c.campaign_id, None),
                c.campaign_name,
                c.objective_type,
                c.create_time,
            ):
                items.append(self._campaign_record(c, secondary, fields))
        return self._page(params, items)

    def adgroup_get(self, params: Params, allowed: frozenset[str]) -> dict[str, Any]:
        advertiser_id = self._advertiser_id(params, allowed)
        fields = self._fields(params, ADGROUP_FIELDS)
        filters = self._entity_filters(params, "adgroup")
        shapes = self.config.real_value_shapes
        items = []
        for g in self.dataset.adgroups[advertiser_id]:
            campaign = self.dataset.campaign(g.campaign_id)
            assert campaign is not None
            secondary = adgroup_status(g, campaign, shapes)
            if filters.keeps(
                g.deleted,
                primary_status(g.deleted, g.enabled and campaign.enabled, secondary),
                secondary,
                g.buying_type,
                g.system_origin,
                (g.campaign_id, g.adgroup_id),
                g.adgroup_name,
                campaign.objective_type,
                g.create_time,
            ):
                items.append(self._adgroup_record(g, campaign, secondary, fields))
        limit = TOP_VIEW_MAX_PAGE_SIZE if filters.top_view else MAX_PAGE_SIZE
        return self._page(params, items, limit)

    def ad_get(self, params: Params, allowed: frozenset[str]) -> dict[str, Any]:
        advertiser_id = self._advertiser_id(params, allowed)
        fields = self._fields(params, AD_FIELDS)
        filters = self._entity_filters(params, "ad")
        items = []
        for ad in self.dataset.ads[advertiser_id]:
            ad_group = self.dataset.adgroup(ad.adgroup_id)
            campaign = self.dataset.campaign(ad.campaign_id)
            assert ad_group is not None
            assert campaign is not None
            secondary = ad_status(ad, ad_group, campaign)
            if (filters.ad_ids is None or ad.ad_id in filters.ad_ids) and filters.keeps(
                ad.deleted,
                primary_status(ad.deleted, ad.enabled, secondary),
                secondary,
                campaign.buying_type,
                campaign.system_origin,
                (ad.campaign_id, ad.adgroup_id),
                ad.ad_name,
                campaign.objective_type,
                ad.create_time,
            ):
                items.append(self._ad_record(ad, ad_group, campaign, secondary, fields))
        return self._page(params, items)

    def _ad_record(
        self,
        ad: Ad,
        ad_group: AdGroup,
        campaign: Campaign,
        secondary: str,
        fields: tuple[str, ...],
    ) -> dict[str, Any]:
        record: dict[str, Any] = {
            "advertiser_id": ad.advertiser_id,
            "campaign_id": ad.campaign_id,
            "campaign_name": campaign.campaign_name,
            "adgroup_id": ad.adgroup_id,
            "adgroup_name": ad_group.adgroup_name,
            "ad_id": ad.ad_id,
            "ad_name": ad.ad_name,
            "ad_text": ad.ad_text,
            "call_to_action": ad.call_to_action,
            "video_id": ad.video_id,
            "image_ids": list(ad.image_ids),
            "landing_page_url": ad.landing_page_url,
            "display_name": f"Sim Brand {ad.identity_id[-3:]}",
            "identity_id": ad.identity_id,
            "identity_type": ad.identity_type,
            "ad_format": ad.ad_format,
            "operation_status": "ENABLE" if ad.enabled and not ad.deleted else "DISABLE",
            "secondary_status": secondary,
            "create_time": ad.create_time,
            "modify_time": ad.modify_time,
        }
        if secondary_left_out(ad.ad_id, ad.deleted, self.config.real_value_shapes):
            del record["secondary_status"]
        return {name: record[name] for name in fields if name in record}

    def _campaign_record(
        self, campaign: Campaign, secondary: str, fields: tuple[str, ...]
    ) -> dict[str, Any]:
        enabled = campaign.enabled and not campaign.deleted
        record: dict[str, Any] = {
            "advertiser_id": campaign.advertiser_id,
            "campaign_id": campaign.campaign_id,
            "campaign_name": campaign.campaign_name,
            "objective_type": campaign.objective_type,
            "operation_status": "ENABLE" if enabled else "DISABLE",
            "secondary_status": secondary,
            "budget": campaign.budget,
            "budget_mode": campaign.budget_mode,
            "create_time": campaign.create_time,
            "modify_time": campaign.modify_time,
        }
        if campaign.system_origin == PROMOTE:
            record = {k: v for k, v in record.items() if k in PROMOTE_CAMPAIGN_FIELDS}
            record["campaign_system_origin"] = PROMOTE  # returned for Promote campaigns only
        shapes = self.config.real_value_shapes
        if secondary_left_out(campaign.campaign_id, campaign.deleted, shapes):
            del record["secondary_status"]
        return {name: record[name] for name in fields if name in record}

    def _adgroup_record(
        self, ad_group: AdGroup, campaign: Campaign, secondary: str, fields: tuple[str, ...]
    ) -> dict[str, Any]:
        enabled = ad_group.enabled and not ad_group.deleted
        record: dict[str, Any] = {
            "advertiser_id": ad_group.advertiser_id,
            "campaign_id": ad_group.campaign_id,
            "adgroup_id": ad_group.adgroup_id,
            "adgroup_name": ad_group.adgroup_name,
            "operation_status": "ENABLE" if enabled else "DISABLE",
            "secondary_status": secondary,
            "budget": ad_group.budget,
            "budget_mode": ad_group.budget_mode,
            "create_time": ad_group.create_time,
            "modify_time": ad_group.modify_time,
        }
        if campaign.system_origin == PROMOTE:
            record = {k: v for k, v in record.items() if k in PROMOTE_ADGROUP_FIELDS}
            record["campaign_system_origin"] = PROMOTE
        shapes = self.config.real_value_shapes
        if secondary_left_out(ad_group.adgroup_id, ad_group.deleted, shapes):
            del record["secondary_status"]
        return {name: record[name] for name in fields if name in record}

    # ----- reports --------------------------------------------------------------------------

    def report(self, params: Params, allowed: frozenset[str]) -> Reply:
        advertiser_id = self._advertiser_id(params, allowed)
        query = parse_report_query(params, advertiser_id, self.dataset, self.config)
        return Reply(*report_page(query, self.dataset, self.config))

    # ----- async reports (tasks.py) ---------------------------------------------------------

    def _task_advertiser(self, params: Params, allowed: frozenset[str]) -> str:
        if not self.config.async_reports_allowed:
            raise ApiError(40001, "No permission: the app is not allowed asynchronous reports.")
        return self._advertiser_id(params, allowed)

    def task_create(self, params: Params, allowed: frozenset[str]) -> dict[str, Any]:
        return self.tasks.create(params, self._task_advertiser(params, allowed))

    def task_check(self, params: Params, allowed: frozenset[str]) -> dict[str, Any]:
        return self.tasks.check(params, self._task_advertiser(params, allowed))

    def task_cancel(self, params: Params, allowed: frozenset[str]) -> dict[str, Any]:
        return self.tasks.cancel(params, self._task_advertiser(params, allowed))

    def task_download(self, params: Params, allowed: frozenset[str]) -> Reply:
        advertiser_id = self._task_advertiser(params, allowed)
        download = self.tasks.download(params, advertiser_id, self.base_url())
        if download.csv is not None:
            return Reply({}, {}, raw=download.csv, content_type=CSV_TYPE)
        return Reply(download.data or {}, {})
