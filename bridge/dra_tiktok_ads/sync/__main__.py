"""``python -m dra_tiktok_ads.sync``: the same as ``tap-tiktok-ads-sync``."""

from dra_tiktok_ads.sync.cli import main

raise SystemExit(main())
