"""`sms-gateway quarantine`: inbound messages the store refused, kept with their raw PDU."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from gateway.commands.check_config import (
    add_config_argument,
    load_config_or_exit,
    open_existing_store,
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "quarantine",
        help="list inbound messages the database refused (kept with their raw PDU)",
        description="List the quarantine, newest first. A PDU can be read with"
        " `sms-gateway pdu decode`.",
    )
    parser.add_argument("--limit", type=int, default=50, help="how many (default 50)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    add_config_argument(parser)
    parser.set_defaults(func=run)


async def _run(args: argparse.Namespace) -> int:
    config = load_config_or_exit(args)
    store = await open_existing_store(config, "quarantine")
    if store is None:
        return 1
    try:
        total = await store.quarantine.count()
        entries = await store.quarantine.recent(limit=max(1, min(args.limit, 1000)))
    finally:
        await store.close()
    if args.json:
        print(json.dumps({"total": total, "messages": [
            {"id": e.id, "line_id": e.line_id, "at": e.created_at.isoformat(),
             "attempts": e.attempts, "reason": e.reason, "pdu": e.pdu}
            for e in entries
        ]}, indent=2))
        return 0
    print(f"{total} quarantined message(s)")
    for e in entries:
        print(f"#{e.id} line {e.line_id} at {e.created_at:%Y-%m-%d %H:%M:%S} after"
              f" {e.attempts} attempts: {e.reason[:200]!r}\n  pdu {e.pdu}")
    return 0


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))
