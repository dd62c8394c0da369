"""`sms-gateway check-config`: validate config.yaml and print every problem with its key path.

Also home of the `--config` option and loader that every command needing the configuration
shares, so they all find the file the same way and refuse a bad one with the same messages.
A valid file may still be unsafe: a webhook secret that looks like a placeholder or is easy to
guess, or secrets in a file other users can read, are printed as warnings.
"""

from __future__ import annotations

import argparse
import re
import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from gateway.config import Config
    from gateway.store.store import Store

EXIT_BAD_CONFIG = 2  # as `run` (systemd's RestartPreventExitStatus)
# What sample files and tutorials put where a secret belongs.
_PLACEHOLDER = re.compile(
    r"change.?me|placeholder|example|your.?secret|random.?string|secret.?here|x{4,}|"
    r"replace|todo|^(.)\1*$", re.IGNORECASE,
)

# gateway.config.DEFAULT_CONFIG_PATHS, spelt out so that --help needs no pydantic (a test checks
# that the two agree).
CONFIG_HELP = "configuration file (default: ./config.yaml, then /etc/sms-gateway/config.yaml)"


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    """Add `--config PATH` (default: ./config.yaml, then /etc/sms-gateway/config.yaml)."""
    parser.add_argument("--config", metavar="PATH", type=Path, default=None, help=CONFIG_HELP)


def load_config_or_exit(args: argparse.Namespace, stderr: TextIO | None = None) -> Config:
    """Load the configuration named by --config; on problems print them and exit with status 1."""
    from gateway.config import ConfigError, load_config

    try:
        return load_config(args.config)
    except ConfigError as exc:
        print(exc, file=stderr or sys.stderr)
        raise SystemExit(EXIT_BAD_CONFIG) from None


def missing_database(config: Config) -> str | None:
    """Why a command that reads or queues in the daemon's store must not go on: its SQLite file
    does not exist, so --config names a place no daemon has run (opening it would create an
    empty database the daemon never reads). None when the database is there."""
    path = config.sqlite_path
    if path is not None and not path.exists():
        return (f"no database at {path}: no daemon has run with this configuration"
                " (is --config right?)")
    return None


async def open_existing_store(config: Config, command: str) -> Store | None:
    """The daemon's store for a command that reads or changes what is in it; None, having said
    why, when no daemon has run with this configuration (see missing_database)."""
    from gateway.store.store import Store

    if (missing := missing_database(config)) is not None:
        print(f"sms-gateway {command}: {missing}", file=sys.stderr)
        return None
    return await Store.open(config.database_url, default_region=config.default_region)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "check-config",
        help="validate the configuration file",
        description="Validate config.yaml; print every problem with its key path.",
    )
    add_config_argument(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from gateway.config import ConfigError, load_config

    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EXIT_BAD_CONFIG
    print("\n".join(summary(config) + [f"WARNING: {w}" for w in warnings(config)]))
    return 0


def _secrets(config: Config) -> list[str]:
    """The keys of the secrets this configuration holds."""
    from sqlalchemy.engine import make_url

    keys = [f"webhooks[{n}].secret" for n, _ in enumerate(config.webhooks)]
    if config.database is not None and make_url(config.database).password:
        keys.append("database (password)")
    keys += [f"modems[{n}].pin" for n, m in enumerate(config.modem_list) if m.pin]
    if config.address_search.headers:
        keys.append("address_search.headers")
    return keys


def warnings(config: Config) -> list[str]:
    """What is valid but unsafe."""
    from zxcvbn import zxcvbn

    out = []
    for n, webhook in enumerate(config.webhooks):
        if _PLACEHOLDER.search(webhook.secret) or zxcvbn(webhook.secret[:100])["score"] < 3:
            out.append(
                f"webhooks[{n}].secret looks like a placeholder or is easy to guess; receivers"
                " trust its signatures: use a long random value (openssl rand -hex 32)"
            )
    source = config.source_path
    secrets = _secrets(config)
    if source is not None and secrets and source.exists():
        mode = stat.S_IMODE(source.stat().st_mode)
        if mode & 0o004:
            out.append(
                f"{source} holds secrets ({', '.join(secrets)}) and every user of this"
                f" machine can read it (mode {mode:04o}): chmod 640 {source}"
            )
    return out


def summary(config: Config) -> list[str]:
    """A few lines an admin can eyeball: where things are and which lines will come up."""
    from sqlalchemy.engine import make_url

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
