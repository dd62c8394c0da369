"""`sms-gateway run`: the daemon."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from gateway.config_errors import ConfigError


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "run", help="run the daemon", description="Run the daemon until SIGTERM or SIGINT."
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="config file (default: ./config.yaml, then /etc/sms-gateway/config.yaml)",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="create the demo accounts when missing and print them (what `make run` does)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from gateway.process import run_daemon

    try:
        return asyncio.run(run_daemon(args.config, demo=args.demo))
    except ConfigError as error:
        print(f"sms-gateway: refusing to start, the configuration is invalid:\n{error}",
              file=sys.stderr)
        return 2
