"""The demo's accounts: what `sms-gateway run --demo` (and `make run`) log in with."""

from __future__ import annotations

from gateway.service.accounts import AccountService
from gateway.service.errors import ConflictError

# (username, password, role)
DEMO_ACCOUNTS = (("agent", "agent-demo", "agent"), ("supervisor", "supervisor-demo", "supervisor"))


async def ensure_demo_accounts(accounts: AccountService) -> list[tuple[str, str, str]]:
    """Create the demo accounts that do not exist yet; returns those created. An existing one is
    kept as the admin left it (its password may have been changed)."""
    created = []
    for username, password, role in DEMO_ACCOUNTS:
        try:
            # Published passwords, on purpose: a start without --demo warns while they work.
            await accounts.add_user(username, role, password, check_strength=False)
        except ConflictError:
            continue
        created.append((username, password, role))
    return created


async def published_demo_accounts(accounts: AccountService) -> list[str]:
    """Demo accounts that still log in with their published password."""
    pairs = [(username, password) for username, password, _role in DEMO_ACCOUNTS]
    return await accounts.users_with_passwords(pairs)
