"""`sms-gateway sim`: run the simulated GSM network standalone until SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from typing import Any

from gateway.sim.profiles import PROFILES
from gateway.sim.runner import SimRunner

DEFAULT_CONTROL = "127.0.0.1:0"


def _host_port(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {value!r}")
    return (host.strip("[]") or "127.0.0.1", int(port))


def _profile_list(value: str) -> str:
    for name in value.split(","):
        if name.strip() not in PROFILES:
            known = ", ".join(sorted(PROFILES))
            raise argparse.ArgumentTypeError(f"unknown profile {name!r}; known: {known}")
    return value


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sim",
        help="run a simulated GSM network with modems on ptys",
        description=(
            "Run simulated modems on pseudo-terminals and a control API. Prints one JSON line"
            ' {"control": URL, "modems": [{"name", "device", "msisdn", "profile"}]} first.'
        ),
    )
    parser.add_argument("--modems", type=int, default=1, help="number of modems (default 1)")
    parser.add_argument(
        "--profile",
        type=_profile_list,
        default="generic",
        help=f"modem profile, or a comma-separated list used in turn ({', '.join(PROFILES)})",
    )
    parser.add_argument("--dir", default=None, help="directory for the device symlinks")
    parser.add_argument(
        "--control",
        type=_host_port,
        default=_host_port(DEFAULT_CONTROL),
        metavar="HOST:PORT",
        help=f"control API address (default {DEFAULT_CONTROL}: loopback, any free port)",
    )
    parser.add_argument(
        "--smsc",
        type=_host_port,
        default=None,
        metavar="HOST:PORT",
        help="also run an SMPP 3.4 SMSC there (port 0: any free port), routing --short-code",
    )
    parser.add_argument(
        "--short-code", default="12345", help="the number the SMSC routes to its ESME"
    )
    parser.set_defaults(func=run)


async def _serve(args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with SimRunner(
            modems=args.modems, profile=args.profile, directory=args.dir, control=args.control,
            smpp=args.smsc, smpp_number=args.short_code,
        ) as sim:
            sys.stdout.write(json.dumps(sim.describe()) + "\n")
            sys.stdout.flush()
            await stop.wait()
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


def run(args: argparse.Namespace) -> int:
    if args.modems < (0 if args.smsc is not None else 1):
        print("sms-gateway sim: error: --modems must be at least 1 (0 with --smsc)",
              file=sys.stderr)
        return 2
    asyncio.run(_serve(args))
    return 0
