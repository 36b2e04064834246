"""What the streams of a run share, declared apart from the tap that provides it.

Streams use run-wide services (the API URL, one HTTP session under one request budget,
the token, the advertisers, the fetch threads); ``tap.TapTikTokAds`` builds them and lists
the streams. Declared here, the streams depend on this contract rather than on the tap
module, which imports them, so the modules form no import cycle.
"""

from __future__ import annotations

import abc
import threading
from concurrent.futures import Executor

import requests
from singer_sdk import Tap
from singer_sdk.helpers._batch import BatchConfig

from tap_tiktok_ads.advertisers import AdvertiserDirectory
from tap_tiktok_ads.auth import TokenManager
from tap_tiktok_ads.throttle import RateLimiter


class TikTokTap(Tap):
    """A tap whose streams are ``client.TikTokStream``: the services they use."""

    @property
    @abc.abstractmethod
    def api_base_url(self) -> str:
        """The API's base URL, without a trailing slash."""

    @property
    @abc.abstractmethod
    def access_token_auth(self) -> requests.auth.AuthBase:
        """Adds the current access token to a request."""

    @property
    @abc.abstractmethod
    def http_session(self) -> requests.Session:
        """The run's one session: every request passes the run's rate limiter."""

    @property
    @abc.abstractmethod
    def async_rate_limiter(self) -> RateLimiter:
        """Paces report/task/* calls below the app's own async limit (``async_reports``)."""

    @property
    @abc.abstractmethod
    def token_manager(self) -> TokenManager:
        """Hands out the access token; renews it after a rejection when it can."""

    @property
    @abc.abstractmethod
    def advertisers(self) -> AdvertiserDirectory:
        """The advertisers of the run, with their details."""

    @property
    @abc.abstractmethod
    def executor(self) -> Executor:
        """Threads that fetch pages ahead."""

    @property
    @abc.abstractmethod
    def prefetch_depth(self) -> int:
        """Pages a stream may have in flight or waiting."""

    @property
    @abc.abstractmethod
    def stopping(self) -> threading.Event:
        """Set when the run fails, so background fetches stop retrying."""

    @property
    @abc.abstractmethod
    def sync_started_ms(self) -> int:
        """``_sdc_sync_started_at`` of rows written to batch files."""

    @abc.abstractmethod
    def clean_old_batch_files(self, batch_config: BatchConfig) -> None:
        """Once per run, before the first batch file: delete earlier runs' old files."""

    @abc.abstractmethod
    def redact(self, text: str) -> str:
        """``text`` with every secret of the run replaced."""
