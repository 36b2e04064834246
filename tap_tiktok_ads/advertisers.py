"""Which advertisers to sync, and what each one is (name, currency, time zone).

Advertisers come from ``advertiser_ids``, else from the token store the connect flow wrote,
else from discovery (``oauth2/advertiser/get``), so every authorized account is synced rather
than only the first. Details are looked up once per run, 100 ids per call.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

INFO_BATCH_SIZE = 100
DISCOVERY_PATH = "/oauth2/advertiser/get/"
INFO_PATH = "/advertiser/info/"
INFO_FIELDS = [
    "advertiser_id",
    "name",
    "currency",
    "timezone",
    "display_timezone",
    "status",
    "create_time",
]

Fetch = Callable[[str, Mapping[str, Any]], dict[str, Any]]
LOGGER = logging.getLogger("tap-tiktok-ads")


class AdvertiserLookupError(Exception):
    """Advertisers could not be determined; the message names the setting to fix."""


class AdvertiserDirectory:
    """Lazily resolved, run-wide list of advertisers and their details."""

    def __init__(
        self,
        fetch: Fetch,
        *,
        configured_ids: list[str],
        app_id: str | None,
        app_secret: str | None,
    ) -> None:
        self._fetch = fetch
        self._configured_ids = configured_ids
        self._app_id = app_id
        self._app_secret = app_secret
        self._ids: list[str] | None = None
        self._details: dict[str, dict[str, Any]] | None = None
        self._lock = threading.Lock()

    def ids(self) -> list[str]:
        with self._lock:
            if self._ids is None:
                self._ids = self._configured_ids or self._discover()
            return list(self._ids)

    def details(self) -> list[dict[str, Any]]:
        """``advertiser/info`` rows, in the order of ``ids()``."""
        ids = self.ids()
        with self._lock:
            if self._details is None:
                self._details = {}
                for start in range(0, len(ids), INFO_BATCH_SIZE):
                    batch = ids[start : start + INFO_BATCH_SIZE]
                    data = self._fetch(INFO_PATH, {"advertiser_ids": batch, "fields": INFO_FIELDS})
                    for row in data.get("list") or []:
                        self._details[str(row.get("advertiser_id"))] = row
                missing = [i for i in ids if i not in self._details]
                if missing:
                    msg = (
                        f"advertiser_ids: TikTok returned no details for {', '.join(missing)}; "
                        "check the ids and that the token is authorized for them"
                    )
                    raise AdvertiserLookupError(msg)
            return [self._details[i] for i in ids]

    def timezone(self, advertiser_id: str) -> ZoneInfo:
        """The advertiser's zone: report days and 'today' are in it."""
        name = next(
            (d.get("timezone") for d in self.details() if str(d["advertiser_id"]) == advertiser_id),
            None,
        )
        try:
            return ZoneInfo(str(name))
        except (ZoneInfoNotFoundError, ValueError):
            LOGGER.warning(
                "Advertiser %s has unknown time zone %r; using UTC for its date windows",
                advertiser_id,
                name,
            )
            return ZoneInfo("UTC")

    def _discover(self) -> list[str]:
        if not (self._app_id and self._app_secret):
            msg = (
                "advertiser_ids is empty: set advertiser_ids, or set app_id and app_secret "
                "so the tap can discover the advertisers the token is authorized for"
            )
            raise AdvertiserLookupError(msg)
        data = self._fetch(DISCOVERY_PATH, {"app_id": self._app_id, "secret": self._app_secret})
        ids = [str(row["advertiser_id"]) for row in data.get("list") or []]
        if not ids:
            msg = "advertiser_ids is empty and the token is authorized for no advertiser"
            raise AdvertiserLookupError(msg)
        LOGGER.info("Discovered %d authorized advertisers", len(ids))
        return ids
