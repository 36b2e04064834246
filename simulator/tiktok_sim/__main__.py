"""Command line: ``tiktok-sim`` / ``python -m tiktok_sim``. Prints the API URL, serves until
SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from datetime import date
from types import FrameType

from tiktok_sim.config import SimConfig
from tiktok_sim.server import Simulator


def _limit(text: str) -> int | None:
    """A positive whole number, or "off"/"none" for no limit."""
    if text.lower() in ("off", "none"):
        return None
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number or 'off'") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1 (or 'off')")
    return value


def _rate(text: str) -> float | None:
    """A positive number of requests per second, or "off"/"none" for no limit."""
    if text.lower() in ("off", "none"):
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number or 'off'") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{value} must be positive (or 'off')")
    return value


def parse_args(argv: list[str] | None = None) -> SimConfig:
    parser = argparse.ArgumentParser(
        prog="tiktok-sim", description="Local simulator of the TikTok Marketing API v1.3."
    )
    defaults = SimConfig()
    parser.add_argument("--host", default=defaults.host)
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--advertisers", type=int, default=defaults.advertisers)
    parser.add_argument("--campaigns", type=int, default=defaults.campaigns, help="per advertiser")
    parser.add_argument("--adgroups", type=int, default=defaults.adgroups, help="per advertiser")
    parser.add_argument(
        "--ads-per-adgroup",
        type=int,
        default=defaults.ads_per_adgroup,
        help="ad groups have 1 to this many ads, cycling",
    )
    parser.add_argument("--days", type=int, default=defaults.days)
    parser.add_argument(
        "--end-date", type=date.fromisoformat, default=None, help="YYYY-MM-DD (default: today)"
    )
    parser.add_argument("--latency-ms", type=int, default=0, help="added to every API call")
    parser.add_argument(
        "--token-lifetime-s",
        type=int,
        default=None,
        help="OAuth-issued tokens expire after N seconds and come with rotating refresh tokens",
    )
    parser.add_argument(
        "--auto-approve", action="store_true", help="consent page redirects at once"
    )
    fidelity = parser.add_argument_group(
        "fidelity", "TikTok's own limits and quirks, each on by default (docs/simulator.md)"
    )
    fidelity.add_argument(
        "--app-qps-limit",
        type=_limit,
        default=defaults.app_qps_limit,
        metavar="N|off",
        help="per-app requests per second, sliding 1 s window; 40100 above (default: 10)",
    )
    fidelity.add_argument(
        "--query-size-limit",
        type=_limit,
        default=defaults.query_size_limit,
        metavar="N|off",
        help="40067 when a report's days x metrics x objects exceeds N",
    )
    fidelity.add_argument(
        "--sync-report-ad-limit",
        type=_limit,
        default=defaults.sync_report_ad_limit,
        metavar="N|off",
        help="reports cover only the newest N ad groups and set X-Tt-Ads-Throttle",
    )
    fidelity.add_argument(
        "--async-qps-limit",
        type=_rate,
        default=defaults.async_qps_limit,
        metavar="R|off",
        help="per-app requests per second over report/task/* (default: 0.3); 40100 above",
    )
    fidelity.add_argument(
        "--async-task-seconds",
        type=float,
        default=defaults.async_task_seconds,
        help="seconds until an async report task is done (default: 2)",
    )
    fidelity.add_argument("--topview-campaigns", type=int, default=defaults.topview_campaigns)
    fidelity.add_argument("--promote-campaigns", type=int, default=defaults.promote_campaigns)
    for flag, help_text in (
        ("hide-special-campaigns", "hide TopView/Promote objects unless asked as documented"),
        ("documented-filters-only", "40002 for filter forms an endpoint does not document"),
        ("real-value-shapes", "0.000/null/raw numbers, 2-4 decimals, more statuses"),
        ("async-reports-allowed", "serve report/task/* (off: 40001, an app not allowed them)"),
    ):
        fidelity.add_argument(
            f"--{flag}",
            action=argparse.BooleanOptionalAction,
            default=getattr(defaults, flag.replace("-", "_")),
            help=help_text,
        )
    parser.add_argument("--app-id", default=defaults.app_id)
    parser.add_argument("--app-secret", default=defaults.app_secret)
    parser.add_argument("--access-token", default=defaults.access_token)
    args = parser.parse_args(argv)
    try:
        return SimConfig(
            seed=args.seed,
            advertisers=args.advertisers,
            campaigns=args.campaigns,
            adgroups=args.adgroups,
            ads_per_adgroup=args.ads_per_adgroup,
            days=args.days,
            end_date=args.end_date,
            latency_ms=args.latency_ms,
            app_id=args.app_id,
            app_secret=args.app_secret,
            access_token=args.access_token,
            host=args.host,
            port=args.port,
            token_lifetime_s=args.token_lifetime_s,
            auto_approve=args.auto_approve,
            app_qps_limit=args.app_qps_limit,
            query_size_limit=args.query_size_limit,
            sync_report_ad_limit=args.sync_report_ad_limit,
            topview_campaigns=args.topview_campaigns,
            promote_campaigns=args.promote_campaigns,
            hide_special_campaigns=args.hide_special_campaigns,
            documented_filters_only=args.documented_filters_only,
            real_value_shapes=args.real_value_shapes,
            async_qps_limit=args.async_qps_limit,
            async_task_seconds=args.async_task_seconds,
            async_reports_allowed=args.async_reports_allowed,
        )
    except ValueError as error:
        parser.error(str(error))
        raise  # parser.error exits; this keeps type checkers informed


def main(argv: list[str] | None = None) -> int:
    config = parse_args(argv)
    stop = threading.Event()

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    with Simulator(config) as sim:
        print(sim.api_url, flush=True)
        while not stop.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
