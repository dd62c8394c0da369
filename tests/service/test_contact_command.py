"""`sms-gateway contact forget PHONE` through the real command line."""

from __future__ import annotations

import asyncio
from pathlib import Path

from gateway.config import load_config
from gateway.store.store import Store

from .test_account_commands import Cli, cli, config_path  # noqa: F401  (fixtures)


def test_forget_an_unknown_number_fails_and_a_known_one_is_erased(
    cli: Cli, config_path: Path  # noqa: F811
) -> None:
    status, _, err = cli("contact", "forget", "+15551230000")
    assert status == 1
    assert "no database at" in err  # no daemon has run here: none is made up

    async def add_contact(number: str) -> None:
        async with await Store.open(load_config(config_path).database_url) as store:
            await store.contacts.ensure(number)

    asyncio.run(add_contact("+15559990000"))
    status, _, err = cli("contact", "forget", "+15551230000")
    assert status == 1
    assert "no contact" in err
    asyncio.run(add_contact("+15551230000"))
    status, out, _ = cli("contact", "forget", "+1 555 123 0000", "--by", "dpo")
    assert status == 0, out
    assert "forgot +1 555 123 0000: 0 messages" in out

    async def audit() -> list[str]:
        async with await Store.open(load_config(config_path).database_url) as store:
            return [e.action for e in await store.accounts.audit_log(limit=10)]

    assert "contact.forget" in asyncio.run(audit())
