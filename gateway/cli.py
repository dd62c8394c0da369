"""The `sms-gateway` command line: dispatches to the subcommand modules in gateway.commands."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Order is the order shown in --help.
COMMAND_MODULES: tuple[str, ...] = (
    "run", "send", "status", "probe", "pdu", "check_config", "sim", "user", "token", "db",
    "logins", "quarantine",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sms-gateway",
        description="SMS chat gateway for contact centers, driving GSM modems.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"gateway.commands.{name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    status: int = args.func(args)
    sys.stdout.flush()
    return status
