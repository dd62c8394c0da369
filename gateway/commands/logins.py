"""`sms-gateway logins`: login throttles of the running daemon, and clearing them.

Failed logins slow further attempts down (see gateway.service.ratelimit); the counters live in
the database, shared by every node of a cluster. The running daemon answers for them through
its control socket, as for `status`; with no daemon running, the command reads (or clears)
them in the database itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from gateway.commands.check_config import (
    add_config_argument,
    load_config_or_exit,
    open_existing_store,
)


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


async def _without_daemon(args: argparse.Namespace, clearing: bool) -> dict[str, Any] | None:
    from gateway.service.accounts import AccountService
    from gateway.service.ratelimit import LoginLimits
    from gateway.store.database import utc_now

    config = load_config_or_exit(args)
    store = await open_existing_store(config, "logins")
    if store is None:
        return None
    try:
        accounts = AccountService(
            store.accounts, login_failures=store.login_failures, clock=utc_now,
            session_ttl_s=config.http.session_ttl_s,
            login_limits=LoginLimits.from_config(config.http))
        if clearing:
            cleared = await accounts.clear_login_limits(
                username=args.clear_user, address=args.clear_address, by=None)
            return {"cleared": cleared}
        return {"throttles": await accounts.login_throttles()}
    finally:
        await store.close()


def run(args: argparse.Namespace) -> int:
    from gateway.config_source import read_data_dir
    from gateway.control import ControlError, call_daemon

    data_dir = read_data_dir(args.config)
    if data_dir is None:  # the file cannot be read: the full load says why
        data_dir = load_config_or_exit(args).data_dir
    clearing = args.clear_user is not None or args.clear_address is not None or args.clear_all
    answer: dict[str, Any] | None
    try:
        if clearing:
            answer = call_daemon(data_dir, "POST", "/login-limits/clear", {
                "username": args.clear_user, "address": args.clear_address})
        else:
            answer = call_daemon(data_dir, "GET", "/login-limits")
    except ControlError as error:
        if error.reached:
            print(f"sms-gateway: {error}", file=sys.stderr)
            return 1
        # No daemon here: the counters are in the database, so read or clear them there.
        answer = asyncio.run(_without_daemon(args, clearing))
    if answer is None:
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
