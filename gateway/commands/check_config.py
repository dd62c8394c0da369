"""`sms-gateway check-config`: validate config.yaml and print every problem with its key path.

Also home of the `--config` option and loader that every command needing the configuration
shares, so they all find the file the same way and refuse a bad one with the same messages.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy.engine import make_url

from gateway.config import DEFAULT_CONFIG_PATHS, Config, ConfigError, load_config

EXIT_BAD_CONFIG = 1


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    """Add `--config PATH` (default: ./config.yaml, then /etc/sms-gateway/config.yaml)."""
    looked = ", then ".join(str(path) for path in DEFAULT_CONFIG_PATHS)
    parser.add_argument(
        "--config",
        metavar="PATH",
        type=Path,
        default=None,
        help=f"configuration file (default: {looked})",
    )


def load_config_or_exit(args: argparse.Namespace, stderr: TextIO | None = None) -> Config:
    """Load the configuration named by --config; on problems print them and exit with status 1."""
    try:
        return load_config(args.config)
    except ConfigError as exc:
        print(exc, file=stderr or sys.stderr)
        raise SystemExit(EXIT_BAD_CONFIG) from None


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "check-config",
        help="validate the configuration file",
        description="Validate config.yaml; print every problem with its key path.",
    )
    add_config_argument(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EXIT_BAD_CONFIG
    print("\n".join(summary(config)))
    return 0


def summary(config: Config) -> list[str]:
    """A few lines an admin can eyeball: where things are and which lines will come up."""
    source = config.source_path or Path("configuration")
    url = make_url(config.database_url)
    database = (
        f"SQLite {config.sqlite_path}"
        if config.sqlite_path is not None
        else url.render_as_string(hide_password=True)
    )
    tls = "TLS" if config.http.tls_cert is not None else "no TLS"
    out = [
        f"{source}: OK",
        f"  data_dir: {config.data_dir}",
        f"  database: {database}",
        f"  http: {config.http.listen} ({tls})",
    ]
    if config.modems_auto:
        out.append(f"  modems: auto, {len(config.lines)} line(s) to match by SIM")
        for line in config.lines:
            sim = line.iccid or line.imsi or "own number"
            out.append(f"    {line.name}: {line.number} (matched by {sim})")
    else:
        out.append(f"  modems: {len(config.modem_list)}")
        for modem in config.modem_list:
            where = "simulator" if modem.simulator else str(modem.device)
            note = ""
            if modem.device is not None and not modem.device.exists():
                note = " (not present now; the daemon waits for it)"
            out.append(f"    {modem.name}: {modem.number} on {where}{note}")
        if any(modem.simulator for modem in config.modem_list):
            out.append(f"  simulator control: {config.simulator.control}")
    if config.smpp:
        out.append(f"  smpp: {len(config.smpp)}")
        for account in config.smpp:
            where = "a simulated SMSC" if account.simulator else f"{account.host}:{account.port}"
            out.append(f"    {account.name}: {account.number} on {where} as {account.system_id}"
                       f" ({account.bind}{', TLS' if account.tls else ''})")
    out.append(f"  address search: {config.address_search.provider}")
    return out
