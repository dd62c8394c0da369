"""Run the real daemon for the browser tests:
`python -m tests.e2e.serve --config FILE [--user NAME:ROLE ...]` (the users' password on stdin).

This is `sms-gateway run` plus the test accounts, created through the running daemon's own
account service (one process instead of one `sms-gateway user add` per user), and a READY line
on stdout once everything listens.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path

from gateway.config import load_config
from gateway.daemon import Daemon
from gateway.log import configure_logging


async def main(config_path: Path, users: list[str], password: str) -> int:
    config = load_config(config_path)
    configure_logging(config.logging)
    daemon = Daemon(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await daemon.start()
        assert daemon.workflow is not None
        for spec in users:
            name, _, role = spec.partition(":")
            await daemon.workflow.accounts.add_user(name, role, password)
        print(f"READY {daemon.http_url}", flush=True)
        await stop.wait()
    finally:
        await daemon.stop()
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--user", action="append", default=[], metavar="NAME:ROLE")
    args = parser.parse_args()
    password = sys.stdin.readline().strip() if args.user else ""
    sys.exit(asyncio.run(main(args.config, args.user, password)))
