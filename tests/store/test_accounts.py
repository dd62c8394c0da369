"""Users, sessions, API tokens and the audit log."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gateway.store import DuplicateError, Store

from .conftest import T0


async def test_users_are_found_by_name_and_unique(store: Store) -> None:
    alice = await store.users.create("alice", "supervisor", "$argon2id$v=19$x", now=T0)
    assert await store.users.find_by_username("alice") == alice
    assert await store.users.find_by_username("nobody") is None
    with pytest.raises(DuplicateError):
        await store.users.create("alice", "agent", "h")
    with pytest.raises(ValueError, match="unknown role"):
        await store.users.create("eve", "root", "h")  # type: ignore[arg-type]
    changed = await store.users.set_password_hash(alice.id, "new-hash")
    assert changed.password_hash == "new-hash"
    assert (await store.users.set_role(alice.id, "admin")).role == "admin"
    await store.users.touch_last_seen(alice.id, now=T0)
    assert (await store.users.get(alice.id)).last_seen == T0
    assert [u.username for u in await store.users.list_all()] == ["alice"]


async def test_sessions_expire_and_end_when_the_user_is_disabled(store: Store) -> None:
    user = await store.users.create("alice", "agent", "h")
    session = await store.sessions.create(user.id, "tok-hash", "csrf", T0 + timedelta(hours=8),
                                          now=T0)
    found = await store.sessions.find_valid("tok-hash", now=T0 + timedelta(hours=1))
    assert found == (session, user)
    assert await store.sessions.find_valid("tok-hash", now=T0 + timedelta(hours=8)) is None
    await store.users.set_disabled(user.id, True)
    assert await store.sessions.find_valid("tok-hash", now=T0) is None
    assert await store.sessions.delete("tok-hash") is False


async def test_sessions_are_purged_after_expiry(store: Store) -> None:
    user = await store.users.create("alice", "agent", "h")
    await store.sessions.create(user.id, "old", "c", T0, now=T0 - timedelta(hours=8))
    await store.sessions.create(user.id, "new", "c", T0 + timedelta(hours=8), now=T0)
    assert await store.sessions.purge_expired(now=T0) == 1
    assert await store.sessions.find_valid("new", now=T0) is not None


async def test_api_tokens_are_found_by_hash_until_revoked(store: Store) -> None:
    admin = await store.users.create("root", "admin", "h")
    token = await store.tokens.create("desk", "sha-1", ["cases:read", "messages:send"], admin.id,
                                      now=T0)
    assert token.scopes == ("cases:read", "messages:send")
    used = await store.tokens.find_active("sha-1", now=T0 + timedelta(minutes=1))
    assert used is not None
    assert used.last_used_at == T0 + timedelta(minutes=1)
    revoked = await store.tokens.revoke(token.id, now=T0)
    assert revoked.revoked
    assert await store.tokens.find_active("sha-1") is None
    assert [t.id for t in await store.tokens.list_all()] == [token.id]


async def test_audit_log_records_who_did_what(store: Store) -> None:
    alice = await store.users.create("alice", "agent", "h")
    await store.audit.record(alice.id, "request.answer", "request:1", {"case": 3}, now=T0)
    await store.audit.record(alice.id, "case.close", "case:3", now=T0 + timedelta(seconds=1))
    entries = await store.audit.recent()
    assert [(e.action, e.target) for e in entries] == [
        ("case.close", "case:3"), ("request.answer", "request:1"),
    ]
    assert entries[1].details == {"case": 3}
    assert entries[1].user_id == alice.id
    assert [e.action for e in await store.audit.recent(target="case:3")] == ["case.close"]
