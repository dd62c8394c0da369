"""`sms-gateway user add|passwd|disable|enable|list`: manage the accounts agents log in with."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from typing import Any

from gateway.commands.check_config import add_config_argument, load_config_or_exit

EXIT_FAILED = 1


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("user", help="manage agent, supervisor and admin accounts")
    actions = parser.add_subparsers(dest="user_action", required=True, metavar="ACTION")
    add = actions.add_parser(
        "add", help="create a user; the password is read from stdin or generated and printed once"
    )
    add.add_argument("name")
    add.add_argument("--role", choices=("agent", "supervisor", "admin"), default="agent")
    add.add_argument("--generate", action="store_true",
                     help="generate a password and print it once (default when stdin is a tty)")
    passwd = actions.add_parser("passwd", help="set a user's password (from stdin or generated)")
    passwd.add_argument("name")
    passwd.add_argument("--generate", action="store_true")
    for action, says in (("disable", "disable a user (their sessions end at once)"),
                         ("enable", "enable a disabled user again")):
        sub = actions.add_parser(action, help=says)
        sub.add_argument("name")
    actions.add_parser("list", help="list users")
    for sub in actions.choices.values():
        add_config_argument(sub)
    parser.set_defaults(func=run)


def _read_password(args: argparse.Namespace) -> str | None:
    """None means: generate one. A tty is prompted twice; a pipe gives its first line."""
    from gateway.service.errors import ServiceError

    if args.generate:
        return None
    if sys.stdin is None:
        return None
    if sys.stdin.isatty():
        first = getpass.getpass("Password (empty to generate): ")
        if not first:
            return None
        if getpass.getpass("Again: ") != first:
            raise ServiceError("the passwords differ")
        return first
    line = sys.stdin.readline().rstrip("\r\n")
    return line or None


async def _run(args: argparse.Namespace) -> int:
    from gateway.service.accounts import AccountService
    from gateway.store.database import utc_now
    from gateway.store.store import Store

    config = load_config_or_exit(args)
    store = await Store.open(config.database_url, default_region=config.default_region)
    try:
        accounts = AccountService(
            store.accounts, login_failures=store.login_failures, clock=utc_now,
            session_ttl_s=config.http.session_ttl_s)
        action = args.user_action
        if action == "add":
            user, generated = await accounts.add_user(args.name, args.role, _read_password(args))
            print(f"created {user.role} {user.username} (id {user.id})")
            if generated:
                print(f"password: {generated}")
        elif action == "passwd":
            password = _read_password(args)
            generated = None
            if password is None:
                from gateway.service.secrets import generate_password

                password = generated = generate_password()
            user = await accounts.set_password(args.name, password)
            print(f"password changed for {user.username}; their sessions have ended")
            if generated:
                print(f"password: {generated}")
        elif action in ("disable", "enable"):
            user = await accounts.set_disabled(args.name, action == "disable")
            print(f"{user.username} is {'disabled' if user.disabled else 'enabled'}")
        else:
            for user in await accounts.list_users():
                state = "disabled" if user.disabled else "active"
                print(f"{user.id}\t{user.username}\t{user.role}\t{state}")
    finally:
        await store.close()
    return 0


def run(args: argparse.Namespace) -> int:
    from gateway.service.errors import ServiceError

    try:
        return asyncio.run(_run(args))
    except ServiceError as error:
        print(f"sms-gateway user: {error.message}", file=sys.stderr)
        return EXIT_FAILED
