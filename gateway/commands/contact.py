"""`sms-gateway contact forget PHONE`: erase everything held about a number (its messages,
notes, cases and contact record), audited with who ran it."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from typing import Any

from gateway.commands.check_config import (
    add_config_argument,
    load_config_or_exit,
    open_existing_store,
)

EXIT_FAILED = 1


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("contact", help="erase what is held about a phone number")
    actions = parser.add_subparsers(dest="contact_action", required=True, metavar="ACTION")
    forget = actions.add_parser(
        "forget", help="erase a number's messages, notes, cases and contact record (audited)")
    forget.add_argument("phone")
    forget.add_argument("--by", default=None,
                        help="who asks, for the audit log (default: the login name)")
    add_config_argument(forget)
    parser.set_defaults(func=run)


async def _run(args: argparse.Namespace) -> int:
    from gateway.service.retention import Retention
    from gateway.store.database import utc_now

    config = load_config_or_exit(args)
    store = await open_existing_store(config, "contact")
    if store is None:
        return EXIT_FAILED
    try:
        retention = Retention(store=store, message_days=None,
                              default_region=config.default_region, clock=utc_now)
        by = args.by or getpass.getuser()
        forgotten = await retention.forget(args.phone, by)
        print(f"forgot {args.phone}: {forgotten.messages} messages, {forgotten.notes} notes,"
              f" {forgotten.cases} cases and the contact record (audited as {by})")
    finally:
        await store.close()
    return 0


def run(args: argparse.Namespace) -> int:
    from gateway.service.errors import ServiceError

    try:
        return asyncio.run(_run(args))
    except ServiceError as error:
        print(f"sms-gateway contact: {error.message}", file=sys.stderr)
        return EXIT_FAILED
