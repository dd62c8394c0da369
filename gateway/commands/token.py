"""`sms-gateway token create|list|revoke`: API tokens for agent desktops and case systems."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from gateway.commands.check_config import add_config_argument, load_config_or_exit
from gateway.service.access import SCOPES

EXIT_FAILED = 1
DEFAULT_SCOPES = ("requests:read", "requests:answer", "cases:read", "cases:write",
                  "messages:send", "lines:read", "events:read")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("token", help="manage API tokens (stored hashed)")
    actions = parser.add_subparsers(dest="token_action", required=True, metavar="ACTION")
    create = actions.add_parser(
        "create", help="create a token acting for a user; the secret is printed once"
    )
    create.add_argument("name", help="what uses the token, e.g. crm-desktop")
    create.add_argument("--user", required=True, help="the user the token acts for")
    create.add_argument(
        "--scope", action="append", choices=SCOPES, dest="scopes",
        help="repeat for each scope (default: every agent scope)",
    )
    actions.add_parser("list", help="list tokens")
    revoke = actions.add_parser("revoke", help="revoke a token by id")
    revoke.add_argument("id", type=int)
    for sub in actions.choices.values():
        add_config_argument(sub)
    parser.set_defaults(func=run)


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
        if args.token_action == "create":
            created = await accounts.create_token(args.name, args.user,
                                                  args.scopes or DEFAULT_SCOPES)
            print(f"created token {created.token.id} ({created.token.name}) for {args.user}"
                  f" with scopes {' '.join(created.token.scopes)}")
            print(f"token: {created.secret}")
            print("it is shown only now; use it as: Authorization: Bearer <token>")
        elif args.token_action == "list":
            for token in await accounts.list_tokens():
                state = "revoked" if token.revoked else "active"
                print(f"{token.id}\t{token.name}\tuser {token.created_by}\t{state}\t"
                      f"{' '.join(token.scopes)}")
        else:
            token = await accounts.revoke_token(args.id)
            print(f"revoked token {token.id} ({token.name})")
    finally:
        await store.close()
    return 0


def run(args: argparse.Namespace) -> int:
    from gateway.service.errors import ServiceError

    try:
        return asyncio.run(_run(args))
    except ServiceError as error:
        print(f"sms-gateway token: {error.message}", file=sys.stderr)
        return EXIT_FAILED
