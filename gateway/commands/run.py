"""`sms-gateway run`: the daemon."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from gateway.commands.check_config import add_config_argument


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "run", help="run the daemon", description="Run the daemon until SIGTERM or SIGINT."
    )
    add_config_argument(parser)
    parser.add_argument(
        "--demo",
        action="store_true",
        help="create the demo accounts when missing and print them (what `make run` does)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import asyncio

    from gateway.api.site import ListenError
    from gateway.config_errors import ConfigError
    from gateway.control import ControlSocketInUseError
    from gateway.datadir import DataDirInUseError
    from gateway.process import run_daemon
    from gateway.store.errors import StoreError

    try:
        return asyncio.run(run_daemon(args.config, demo=args.demo))
    except ConfigError as error:
        print(f"sms-gateway: refusing to start, the configuration is invalid:\n{error}",
              file=sys.stderr)
        return 2
    except (StoreError, ListenError, ControlSocketInUseError, DataDirInUseError) as error:
        # The database refused or cannot serve this daemon (a node name in use, LISTEN
        # unavailable through a pooler), its port is taken, another daemon runs on its
        # data_dir: the reason, not a traceback.
        print(f"sms-gateway: refusing to start: {error}", file=sys.stderr)
        return 1
