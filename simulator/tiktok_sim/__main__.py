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
