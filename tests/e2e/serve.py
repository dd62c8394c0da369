"""Run the real daemon for the browser tests:
`python -m tests.e2e.serve --config FILE [--user NAME:ROLE ...]` (the users' password on stdin).

The daemon is the production composition root. When its HTTP app does not serve the console
yet, the agent API, the console and the customer phone page are mounted here the way the daemon
is meant to mount them, so the browser tests exercise the same parts either way.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path

from aiohttp import web

from gateway.api.app import create_app
from gateway.api.keys import WORKFLOW
from gateway.config import load_config
from gateway.console import add_console_routes, add_phone_page_routes
from gateway.daemon import Daemon
from gateway.log import configure_logging
from gateway.sim.control import create_control_app


def serves_console(app: web.Application) -> bool:
    return any(
        route.resource is not None and route.resource.canonical == "/"
        for route in app.router.routes()
    )


class ConsoleDaemon(Daemon):
    def build_app(self) -> web.Application:
        app = super().build_app()
        if serves_console(app):
            return app
        assert self.store is not None
        app = create_app(store=self.store, bus=self.bus, config=self.config,
                         wake_outbound=self.wake_outbound, clock=self.clock)
        add_console_routes(app)
        if self.sim is not None:
            add_phone_page_routes(app, create_control_app(self.sim.network))
        return app


async def main(config_path: Path, users: list[str], password: str) -> int:
    config = load_config(config_path)
    configure_logging(config.logging)
    daemon = ConsoleDaemon(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await daemon.start()
        assert daemon.app is not None
        for spec in users:
            name, _, role = spec.partition(":")
            await daemon.app[WORKFLOW].accounts.add_user(name, role, password)
        print(f"READY {daemon.http_url} {daemon.sim_control_url}", flush=True)
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
