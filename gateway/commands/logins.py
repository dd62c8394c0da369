"""`sms-gateway logins`: login throttles of the running daemon, and clearing them.

Failed logins slow further attempts down (see gateway.service.ratelimit); the counters live in
the daemon, so this asks it through the control socket, as `status` does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from gateway.commands.check_config import add_config_argument, load_config_or_exit


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "logins", help="show login throttles (failed logins) and clear them",
        description="Without options: the counters that slow logins down now. With --clear-user"
        " or --clear-address (or --clear-all): forget those counters.",
    )
    parser.add_argument("--clear-user", metavar="USERNAME", help="forget this username's counters")
    parser.add_argument("--clear-address", metavar="ADDRESS", help="forget this address's counters")
    parser.add_argument("--clear-all", action="store_true", help="forget every counter")
    parser.add_argument("--json", action="store_true", help="print JSON")
    add_config_argument(parser)
    parser.set_defaults(func=run)


async def _call(path: Any, method: str, route: str, body: Any = None) -> dict[str, Any]:
    import aiohttp

    connector = aiohttp.UnixConnector(path=str(path))
    async with aiohttp.ClientSession(connector=connector) as session, session.request(
        method, f"http://localhost{route}", json=body, timeout=aiohttp.ClientTimeout(total=10)
    ) as response:
        response.raise_for_status()
        result: dict[str, Any] = await response.json()
        return result


def run(args: argparse.Namespace) -> int:
    import aiohttp

    from gateway.control import socket_path

    config = load_config_or_exit(args)
    path = socket_path(config.data_dir)
    clearing = args.clear_user is not None or args.clear_address is not None or args.clear_all
    try:
        if clearing:
            answer = asyncio.run(_call(path, "POST", "/login-limits/clear", {
                "username": args.clear_user, "address": args.clear_address}))
        else:
            answer = asyncio.run(_call(path, "GET", "/login-limits"))
    except (OSError, aiohttp.ClientError) as error:
        print(f"sms-gateway: the daemon is not running (no answer on {path}: {error})",
              file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(answer, indent=2))
    elif clearing:
        print(f"cleared {answer['cleared']} counter(s)")
    elif not answer["throttles"]:
        print("no login is being slowed down")
    else:
        for t in answer["throttles"]:
            who = " from ".join(filter(None, [t["username"], t["address"]]))
            print(f"{t['kind']:<13} {who}: {t['failures']} failures,"
                  f" next attempt in {t['retry_after_s']} s")
    return 0
