"""`sms-gateway send`: an admin's test send, queued like an agent's Send.

The message is committed to the store's queue; a running daemon is told to send it now, and a
stopped one sends it on its next start.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from typing import TYPE_CHECKING, Any

from gateway.commands.check_config import add_config_argument

if TYPE_CHECKING:
    from gateway.config import Config
    from gateway.store import Message, Store

WAIT_POLL_S = 0.5
FINAL = frozenset({"delivered", "failed", "expired", "unknown"})


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "send", help="queue a test SMS (through the running daemon when there is one)"
    )
    add_config_argument(parser)
    parser.add_argument("--line", default=None, help="line (modem) name; default: the first")
    parser.add_argument("--to", required=True, help="destination number")
    parser.add_argument("--wait", action="store_true",
                        help="wait for the final status of every part and print it")
    parser.add_argument("--wait-timeout", type=float, default=300.0, metavar="SECONDS")
    parser.add_argument("text", help="message text")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import asyncio

    from gateway.config import load_config
    from gateway.config_errors import ConfigError
    from gateway.service.errors import InvalidPhoneError
    from gateway.sms import PduError
    from gateway.store import StoreError

    try:
        config = load_config(args.config)
        return asyncio.run(_send(config, args))
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    except (PduError, StoreError, LookupError) as error:
        print(f"sms-gateway send: {error}", file=sys.stderr)
        return 2
    except InvalidPhoneError as error:
        print(f"sms-gateway send: {error.message}", file=sys.stderr)
        return 2


async def _send(config: Config, args: argparse.Namespace) -> int:
    import asyncio

    from gateway.control import ControlError, call_daemon
    from gateway.sms import encode_submit
    from gateway.store import Store

    names = [line.name for line in config.line_list]
    if not names:
        raise LookupError("no line is configured")
    name = args.line or names[0]
    if name not in names:
        raise LookupError(f"no line named {name!r}; configured: {', '.join(names)}")
    line_config = next(line for line in config.line_list if line.name == name)
    sending = config.sending
    from gateway.service.phone import dial_address

    # The number stored is the number dialled: E.164 read in the default region, or a short code.
    to = dial_address(args.to, config.default_region)
    encoded = encode_submit(
        args.text, to, status_report=sending.status_reports,
        validity_minutes=sending.validity_minutes, max_parts=sending.max_parts,
        ref=secrets.randbelow(1 << sending.concat_ref_bits), ref_bits=sending.concat_ref_bits,
    )
    config.data_dir.mkdir(parents=True, exist_ok=True)
    store = await Store.open(config.database_url, default_region=config.default_region)
    try:
        line = await store.lines.ensure(name, line_config.number)
        queued = await store.outbound.queue_outbound(
            line_id=line.id, to=to, text=args.text, encoded=encoded
        )
        message = queued.message
        print(json.dumps({"message_id": message.id, "parts": len(message.parts)}))
        try:
            await asyncio.to_thread(call_daemon, config.data_dir, "POST", "/outbound/wake")
        except ControlError:
            print("the daemon is not running: the message goes out on its next start",
                  file=sys.stderr)
            if args.wait:
                return 1
        if not args.wait:
            return 0
        final = await _wait(store, message.id, args.wait_timeout, sending.status_reports)
        print(json.dumps({
            "message_id": final.id, "status": final.status,
            "parts": [{"seq": p.seq, "status": p.status, "tp_mr": p.tp_mr, "error": p.last_error}
                      for p in final.parts],
        }))
        return 0 if final.status in ("delivered", "sent") else 1
    finally:
        await store.close()


async def _wait(store: Store, message_id: int, timeout_s: float, reports: bool) -> Message:
    import asyncio

    final = FINAL if reports else FINAL | {"sent"}
    try:
        async with asyncio.timeout(timeout_s):
            while True:
                message = await store.messages.get(message_id)
                if all(p.status in final for p in message.parts):
                    return message
                await asyncio.sleep(WAIT_POLL_S)
    except TimeoutError:
        return await store.messages.get(message_id)
