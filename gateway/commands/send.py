"""`sms-gateway send`: an admin's test send, queued like an agent's Send.

A running daemon is asked on its control socket to queue the message and sends it at once; so
that this answers at once, the command then reads only data_dir from the configuration and opens
nothing else. When no daemon answers there, the command commits the message to the store itself
(with the same gateway.service.admin_send) and the daemon sends it on its next start.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gateway.commands.check_config import add_config_argument

if TYPE_CHECKING:
    from gateway.config import Config

WAIT_POLL_S = 0.5
# Exit statuses: what a script needs to know to never send a test message twice.
SENT, FAILED, REFUSED, PENDING = 0, 1, 2, 3
EXIT_STATUSES = """exit status:
  0  queued (with --wait: delivered, or sent when no status report is asked for)
  1  (with --wait) it failed, expired, or its outcome is unknown
  2  refused: nothing was queued (bad number, empty or too long text, unknown line, bad config)
  3  queued, but its final status is not known: no daemon is running to send it now (it goes
     out on the daemon's next start), --wait gave up after --wait-timeout, or the daemon did
     not answer. Do not send it again: look at the line's queue (sms-gateway status)."""


def _positive_seconds(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds (got {text})")
    return value


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "send", help="queue a test SMS (through the running daemon when there is one)",
        epilog=EXIT_STATUSES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_config_argument(parser)
    parser.add_argument("--line", default=None,
                        help="line name (a modem or an SMPP account; in a cluster, any node's:"
                        " that node sends it); default: the first configured on this host")
    parser.add_argument("--to", required=True, help="destination number")
    parser.add_argument("--wait", action="store_true",
                        help="wait for the final status of every part and print it")
    parser.add_argument("--wait-timeout", type=_positive_seconds, default=300.0,
                        metavar="SECONDS",
                        help="with --wait, give up waiting after this long (default 300); the"
                        " message stays queued")
    parser.add_argument("text", help="message text")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from gateway.config_source import read_data_dir

    # A running daemon queues the message: this process then needs neither the configuration's
    # models nor the store. Only when no daemon is there does it open the store itself.
    data_dir = read_data_dir(args.config)
    if data_dir is not None:
        from gateway.control import ControlError

        try:
            return _send_through_daemon(data_dir, args)
        except ControlError as error:
            if error.reached and error.status is None:
                # Never queued twice: the daemon may have committed it before going quiet.
                print(f"sms-gateway send: the daemon did not answer ({error}); the message may"
                      " be queued: look before sending it again", file=sys.stderr)
                return PENDING
            if error.reached:
                print(f"sms-gateway send: {error.detail}", file=sys.stderr)
                return REFUSED if error.status is not None and error.status < 500 else FAILED
    return _send_alone(args)


def _send_through_daemon(data_dir: Path, args: argparse.Namespace) -> int:
    import time

    from gateway.control import ControlError, call_daemon

    queued = call_daemon(data_dir, "POST", "/outbound/messages",
                         {"to": args.to, "text": args.text, "line": args.line})
    print(json.dumps(queued), flush=True)
    if not args.wait:
        return SENT
    deadline = time.monotonic() + args.wait_timeout
    route = f"/outbound/messages/{queued['message_id']}"
    try:
        while True:
            outcome = call_daemon(data_dir, "GET", route)
            done = outcome.pop("done")
            if done or time.monotonic() >= deadline:
                break
            time.sleep(WAIT_POLL_S)
    except ControlError as error:
        # The message is queued: whatever happens to the daemon now, it is not queued again.
        print(f"sms-gateway send: queued, but its outcome is unknown: {error}", file=sys.stderr)
        return PENDING
    print(json.dumps(outcome))
    if not done:
        print(f"sms-gateway send: gave up waiting after {args.wait_timeout:g} s; the message is"
              f" {outcome['status']} and stays queued", file=sys.stderr)
        return PENDING
    return SENT if outcome["status"] in ("delivered", "sent") else FAILED


def _send_alone(args: argparse.Namespace) -> int:
    """No daemon answered: commit the message to the store; the daemon sends it on its next
    start."""
    import asyncio

    from gateway.commands.check_config import missing_database
    from gateway.config import load_config
    from gateway.config_errors import ConfigError
    from gateway.service.errors import ServiceError

    try:
        config = load_config(args.config)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return REFUSED
    if (missing := missing_database(config)) is not None:
        print(f"sms-gateway send: no daemon answers and {missing}; nothing was queued",
              file=sys.stderr)
        return REFUSED
    try:
        return asyncio.run(_queue(config, args))
    except ServiceError as error:
        print(f"sms-gateway send: {error}", file=sys.stderr)
        return REFUSED


async def _queue(config: Config, args: argparse.Namespace) -> int:
    from gateway.bus import EventBus, Publisher
    from gateway.service.admin_send import AdminSend
    from gateway.service.settings import ChatSettings
    from gateway.store import Store
    from gateway.store.database import utc_now

    store = await Store.open(config.database_url, default_region=config.default_region)
    try:
        lines = {}
        for name, number in [(line.name, line.number) for line in config.line_list] + [
                (line.name, line.number) for line in config.smpp]:
            lines[name] = (await store.lines.ensure(name, number)).id
        admin_send = AdminSend(
            store=store, publisher=Publisher(EventBus()), settings=ChatSettings.from_config(config),
            clock=utc_now, wake_outbound=lambda: None, lines=lines,
        )
        message = await admin_send.send(to=args.to, text=args.text, line=args.line)
        print(json.dumps({"message_id": message.id, "parts": len(message.parts)}))
        print("sms-gateway send: the daemon is not running: the message goes out on its next"
              " start", file=sys.stderr)
        return PENDING if args.wait else SENT
    finally:
        await store.close()
