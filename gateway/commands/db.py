"""`sms-gateway db upgrade | backup`: bring the schema to the current version; back up SQLite."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from gateway.commands.check_config import add_config_argument, load_config_or_exit

EXIT_STORE_ERROR = 2


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "db", help="database maintenance", description="Database schema upgrade and backup."
    )
    actions = parser.add_subparsers(dest="db_command", required=True, metavar="ACTION")

    upgrade = actions.add_parser(
        "upgrade",
        help="migrate the database schema to the current version",
        description="Apply the shipped migrations (the daemon also does this at start).",
    )
    add_config_argument(upgrade)
    upgrade.add_argument(
        "--database", metavar="URL", help="SQLAlchemy URL to use instead of the configured one"
    )
    upgrade.set_defaults(func=run_upgrade)

    backup = actions.add_parser(
        "backup",
        help="copy the SQLite database to PATH while the daemon runs",
        description="Online, consistent copy of a SQLite store (for PostgreSQL use pg_dump).",
    )
    backup.add_argument("path", type=Path, metavar="PATH", help="file to write the copy to")
    add_config_argument(backup)
    backup.add_argument("--database", metavar="URL", help="SQLAlchemy URL instead of config")
    backup.add_argument("--force", action="store_true", help="replace PATH if it exists")
    backup.set_defaults(func=run_backup)


def _database_url(args: argparse.Namespace) -> str:
    if args.database:
        return str(args.database)
    return load_config_or_exit(args).database_url


def run_upgrade(args: argparse.Namespace) -> int:
    from sqlalchemy.engine import make_url

    from gateway.store.errors import StoreError
    from gateway.store.migrate import upgrade_database

    url = _database_url(args)
    try:
        revision = asyncio.run(upgrade_database(url))
    except StoreError as error:
        print(f"database upgrade failed: {error}", file=sys.stderr)
        return EXIT_STORE_ERROR
    shown = make_url(url).render_as_string(hide_password=True)
    print(f"database {shown} is at revision {revision}")
    return 0


def run_backup(args: argparse.Namespace) -> int:
    from sqlalchemy.engine import make_url

    from gateway.store.backup import backup_sqlite
    from gateway.store.errors import StoreError

    url = make_url(_database_url(args))
    if url.get_backend_name() != "sqlite" or not url.database:
        print("db backup works on a SQLite store; back up PostgreSQL with pg_dump",
              file=sys.stderr)
        return EXIT_STORE_ERROR
    if args.path.exists() and not args.force:
        print(f"{args.path} already exists; give --force to replace it", file=sys.stderr)
        return EXIT_STORE_ERROR
    try:
        backup_sqlite(Path(url.database), args.path)
    except StoreError as error:
        print(f"backup failed: {error}", file=sys.stderr)
        return EXIT_STORE_ERROR
    print(f"backed up {url.database} to {args.path}")
    return 0
