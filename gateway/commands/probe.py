"""`sms-gateway probe [DEVICE...]`: which serial ports answer AT, and which modem and SIM each is.

The admin's first command on a new box. Without devices it probes every candidate port
(discovery.candidates and the entries of discovery.watch_dirs); ports are probed concurrently,
each within discovery.probe_timeout_s. Works without a config file. Exit status: 0 if at least
one modem answered, 1 if none did, 2 for bad usage (including an unreadable config file).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from gateway.config_source import BAUD_RATES

if TYPE_CHECKING:
    from gateway.config import Config
    from gateway.discovery.probe import ProbeResult

EXIT_ANSWERED = 0
EXIT_NONE_ANSWERED = 1
EXIT_USAGE = 2

COLUMNS = ("DEVICE", "AT", "MODEL", "IMEI", "SIM", "ICCID", "NUMBER", "SIGNAL", "REG", "LINE")


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "probe",
        help="find serial ports that answer AT and show each modem and SIM",
        description=(
            "Probe serial ports (default: every candidate port of the discovery settings) and"
            " show which answer AT, with each modem's model, IMEI, SIM state, ICCID, own number,"
            " signal and registration. Read-only: no PIN is entered, no setting is saved."
            " Stop the daemon first: a port is used by one program at a time. Exit status 0 if"
            " a modem answered, 1 if none did, 2 for bad usage."
        ),
    )
    parser.add_argument(
        "devices", nargs="*", metavar="DEVICE", help="serial device paths to probe"
    )
    parser.add_argument(
        "--config",
        metavar="PATH",
        type=Path,
        default=None,
        help="configuration file (default: ./config.yaml or /etc/sms-gateway/config.yaml if"
        " present, else built-in defaults)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=_positive_seconds,
        default=None,
        help="longest wait per port (default: discovery.probe_timeout_s, 3)",
    )
    parser.add_argument(
        "--baud",
        type=int,
        choices=BAUD_RATES,
        default=None,
        metavar="RATE",
        help="serial speed (default: the configured modem's, else 115200)",
    )
    parser.set_defaults(func=run)


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds (got {text})")
    return value


def run(args: argparse.Namespace) -> int:
    from gateway.config import LoggingConfig
    from gateway.log import configure_logging

    configure_logging(LoggingConfig(level="warning"), stream=sys.stderr)
    return asyncio.run(probe_command(args))


async def probe_command(
    args: argparse.Namespace, *, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    from gateway.config import ConfigError
    from gateway.discovery.probe import list_candidate_ports, probe_port

    out = out if out is not None else sys.stdout
    err = err if err is not None else sys.stderr
    try:
        config = _load(args.config, err)
    except ConfigError as exc:
        print(exc, file=err)
        return EXIT_USAGE
    discovery = config.discovery
    timeout_s = args.timeout if args.timeout is not None else discovery.probe_timeout_s
    devices: list[str] = list(args.devices) or list_candidate_ports(
        discovery.candidates, discovery.watch_dirs
    )
    if not devices:
        if args.json:
            print(json.dumps({"ports": [], "answered": 0}), file=out)
        else:
            looked = ", ".join([*discovery.candidates, *(str(d) for d in discovery.watch_dirs)])
            print(f"no serial ports found (looked for {looked})", file=out)
        return EXIT_NONE_ANSWERED
    results = await asyncio.gather(
        *(
            probe_port(device, baud=_baud(args.baud, device, config), timeout_s=timeout_s)
            for device in devices
        )
    )
    lines = [configured_line(result, config) for result in results]
    answered = sum(1 for result in results if result.answers_at)
    if args.json:
        ports = [
            {**result.as_dict(), "line": line}
            for result, line in zip(results, lines, strict=True)
        ]
        print(json.dumps({"ports": ports, "answered": answered}, indent=2), file=out)
    else:
        print(render_table(results, lines), file=out)
    return EXIT_ANSWERED if answered else EXIT_NONE_ANSWERED


def _load(path: Path | None, err: TextIO) -> Config:
    """The given config (its problems are fatal); else the default file if present and usable;
    else built-in defaults: probing must work on a box that has no configuration yet."""
    from gateway.config import ConfigError, load_config, parse_config

    if path is not None:
        return load_config(path)
    try:
        return load_config(None)
    except ConfigError as exc:
        if exc.source is not None:
            print(f"{exc}\n(probing with the built-in discovery defaults)", file=err)
        return parse_config({})


def _baud(requested: int | None, device: str, config: Config) -> int:
    if requested is not None:
        return requested
    real = os.path.realpath(device)
    for modem in config.modem_list:
        if modem.device is not None and os.path.realpath(modem.device) == real:
            return modem.baud
    return 115200


def configured_line(result: ProbeResult, config: Config) -> str | None:
    """The configured line this port serves: by SIM identity, else by configured device path."""
    from gateway.discovery.matching import match_line

    if result.answers_at:
        match = match_line(result.identity, config.line_list)
        if match is not None:
            return match.line.name
    for modem in config.modem_list:
        if modem.device is not None and os.path.realpath(modem.device) == result.resolved:
            return modem.name
    return None


def render_table(results: Sequence[ProbeResult], lines: Sequence[str | None]) -> str:
    """A fixed-width table, one port a row, then one note per port that had a problem."""
    rows = [list(COLUMNS)]
    notes: list[str] = []
    for result, line in zip(results, lines, strict=True):
        rows.append(_row(result, line))
        if result.error:
            notes.append(f"{result.device}: {result.error}")
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    text = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    answered = sum(1 for result in results if result.answers_at)
    text.append("")
    text.append(f"{answered} of {len(results)} port(s) answered AT")
    text.extend(notes)
    return "\n".join(text)


def _row(result: ProbeResult, line: str | None) -> list[str]:
    if not result.answers_at:
        return [result.device, "no", *["-"] * (len(COLUMNS) - 2)]
    identity = result.identity
    model = " ".join(p for p in (identity.manufacturer, identity.model) if p) or "-"
    signal = "-"
    if result.signal_dbm is not None:
        signal = f"{result.signal_dbm} dBm ({result.signal_csq})"
    elif result.registration is not None:
        signal = "unknown"
    return [
        result.device,
        "yes",
        model,
        identity.imei or "-",
        result.sim_state or "-",
        identity.iccid or "-",
        identity.own_number or "-",
        signal,
        result.registration or "-",
        line or "-",
    ]
