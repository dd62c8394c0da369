"""The `sms-gateway` command line: dispatches to the subcommand modules in gateway.commands.

A command line answers at once: only the module of the command being run is imported, and each
command module imports the heavy parts it needs (the configuration's pydantic models, the
store's SQLAlchemy, aiohttp, the daemon) inside the function that runs it. `sms-gateway --help`
lists the commands from the table below without importing any of them.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

# name -> (module in gateway.commands, the line `sms-gateway --help` shows). Order is the order
# shown in --help. Each module's own add_parser(help=...) says the same (tests/test_cli.py).
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("run", "run the daemon"),
    "send": ("send", "queue a test SMS (through the running daemon when there is one)"),
    "status": ("status", "show the running daemon's lines and queues"),
    "probe": ("probe", "find serial ports that answer AT and show each modem and SIM"),
    "pdu": ("pdu", "encode or decode SMS PDUs"),
    "check-config": ("check_config", "validate the configuration file"),
    "sim": ("sim", "run a simulated GSM network with modems on ptys"),
    "user": ("user", "manage agent, supervisor and admin accounts"),
    "token": ("token", "manage API tokens (stored hashed)"),
    "db": ("db", "database maintenance"),
    "logins": ("logins", "show login throttles (failed logins) and clear them"),
    "quarantine": (
        "quarantine", "list inbound messages the database refused (kept with their raw PDU)"
    ),
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command; with `only`, that command's in full and the others by name
    and help line alone, so that only its module is imported (`only=""`: none in full)."""
    parser = argparse.ArgumentParser(
        prog="sms-gateway",
        description="SMS chat gateway for contact centers, driving GSM modems.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module, help_line) in COMMANDS.items():
        if only is None or only == name:
            importlib.import_module(f"gateway.commands.{module}").register(subparsers)
        else:
            subparsers.add_parser(name, help=help_line)
    return parser


def chosen_command(argv: Sequence[str]) -> str | None:
    """The command named on the line: the first word that is not an option (the top-level
    parser has no option taking a value), or None."""
    return next((word for word in argv if not word.startswith("-")), None)


def main(argv: Sequence[str] | None = None) -> int:
    # The gateway uses no pydantic plugins; looking for them reads the metadata of every
    # installed distribution the first time a configuration model is built (a fifth of
    # `status`). A value already in the environment is kept.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    words = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(only=chosen_command(words) or "")
    args = parser.parse_args(words)
    status: int = args.func(args)
    sys.stdout.flush()
    return status
