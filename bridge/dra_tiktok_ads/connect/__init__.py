"""OAuth connect flow for TikTok Ads: a small Flask app and the ``tap-tiktok-ads-connect`` CLI.

A marketer connects once; the tokens and chosen advertisers are saved where the pipeline reads
them (token store, Meltano ``.env``, and the platform's ``dra_data_sources`` when configured).
"""

from dra_tiktok_ads.connect.app import create_app
from dra_tiktok_ads.connect.settings import ConnectSettings, SettingsError

__all__ = ["ConnectSettings", "SettingsError", "create_app"]
