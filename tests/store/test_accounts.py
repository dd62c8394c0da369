"""Users, sessions, API tokens and the audit log (store.accounts)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gateway.store import DuplicateError, NotFoundError, Store

from .conftest import T0


async def test_users_are_found_by_name_and_unique(store: Store) -> None:
    accounts = store.accounts
    alice = await accounts.create_user("alice", "supervisor", "$argon2id$v=19$x", T0)
    assert await accounts.get_user_by_name("alice") == alice
    assert await accounts.get_user(alice.id) == alice
    assert await accounts.get_user_by_name("nobody") is None
    assert await accounts.get_user(alice.id + 1) is None
    with pytest.raises(DuplicateError):
        await accounts.create_user("alice", "agent", "h", T0)
    changed = await accounts.update_user(alice.id, now=T0, by=None, password_hash="new-hash")
    assert changed.password_hash == "new-hash"
    assert (await accounts.update_user(alice.id, now=T0, by=None, role="admin")).role == "admin"
    assert [u.username for u in await accounts.list_users()] == ["alice"]
    with pytest.raises(NotFoundError):
        await accounts.update_user(alice.id + 1, now=T0, by=None, disabled=True)


async def test_logging_in_records_when_the_user_was_last_seen(store: Store) -> None:
    user = await store.accounts.create_user("alice", "agent", "h", T0)
    assert user.last_seen is None
    later = T0 + timedelta(minutes=5)
    await store.accounts.create_session(user.id, "tok-hash", "csrf", later,
                                        later + timedelta(hours=8))
    seen = await store.accounts.get_user(user.id)
    assert seen is not None
    assert seen.last_seen == later


async def test_sessions_expire_and_end_when_the_user_is_disabled(store: Store) -> None:
    accounts = store.accounts
    user = await accounts.create_user("alice", "agent", "h", T0)
    session = await accounts.create_session(user.id, "tok-hash", "csrf", T0,
                                            T0 + timedelta(hours=8))
    found = await accounts.find_session("tok-hash", T0 + timedelta(hours=1))
    assert found is not None
    assert found[0] == session
    assert (found[1].id, found[1].username) == (user.id, "alice")
    assert await accounts.find_session("tok-hash", T0 + timedelta(hours=8)) is None
    await accounts.update_user(user.id, now=T0, by=None, disabled=True)
    assert await accounts.find_session("tok-hash", T0) is None
    # Disabling ended the session for good: enabling again does not bring it back.
    await accounts.update_user(user.id, now=T0, by=None, disabled=False)
    assert await accounts.find_session("tok-hash", T0) is None


async def test_a_new_password_ends_the_users_sessions(store: Store) -> None:
    user = await store.accounts.create_user("alice", "agent", "h", T0)
    await store.accounts.create_session(user.id, "tok-hash", "csrf", T0, T0 + timedelta(hours=8))
    await store.accounts.update_user(user.id, now=T0, by=None, password_hash="other")
    assert await store.accounts.find_session("tok-hash", T0) is None


async def test_logging_out_deletes_the_session(store: Store) -> None:
    user = await store.accounts.create_user("alice", "agent", "h", T0)
    await store.accounts.create_session(user.id, "tok-hash", "csrf", T0, T0 + timedelta(hours=8))
    await store.accounts.delete_session("tok-hash", T0)
    assert await store.accounts.find_session("tok-hash", T0) is None
    entries = await store.accounts.audit_log(limit=10)
    assert [(e.action, e.user_id) for e in entries] == [
        ("logout", user.id), ("login", user.id), ("user.create", None),
    ]


async def test_sessions_are_purged_after_expiry(store: Store) -> None:
    user = await store.accounts.create_user("alice", "agent", "h", T0)
    await store.accounts.create_session(user.id, "old", "c", T0 - timedelta(hours=8), T0)
    await store.accounts.create_session(user.id, "new", "c", T0, T0 + timedelta(hours=8))
    assert await store.accounts.delete_expired_sessions(T0) == 1
    assert await store.accounts.find_session("new", T0) is not None


async def test_api_tokens_are_found_by_hash_until_revoked(store: Store) -> None:
    accounts = store.accounts
    admin = await accounts.create_user("root", "admin", "h", T0)
    token = await accounts.create_token("desk", "sha-1", ["cases:read", "messages:send"],
                                        admin.id, T0)
    assert token.scopes == ("cases:read", "messages:send")
    found = await accounts.find_token("sha-1")
    assert found is not None
    assert (found[0].id, found[1].id) == (token.id, admin.id)
    await accounts.touch_token(token.id, T0 + timedelta(minutes=1))
    [listed] = await accounts.list_tokens()
    assert listed.last_used_at == T0 + timedelta(minutes=1)
    revoked = await accounts.revoke_token(token.id, admin.id, T0)
    assert revoked.revoked
    assert revoked.revoked_at == T0
    assert await accounts.find_token("sha-1") is None
    assert [t.id for t in await accounts.list_tokens()] == [token.id]
    with pytest.raises(NotFoundError):
        await accounts.revoke_token(token.id + 1, admin.id, T0)


async def test_a_disabled_users_token_does_not_authenticate(store: Store) -> None:
    accounts = store.accounts
    user = await accounts.create_user("crm-bot", "agent", "h", T0)
    await accounts.create_token("crm", "sha-crm", ["cases:read"], user.id, T0)
    assert await accounts.find_token("sha-crm") is not None
    await accounts.update_user(user.id, now=T0, by=None, disabled=True)
    assert await accounts.find_token("sha-crm") is None
    await accounts.update_user(user.id, now=T0, by=None, disabled=False)
    assert await accounts.find_token("sha-crm") is not None


async def test_audit_log_records_who_did_what(store: Store) -> None:
    accounts = store.accounts
    alice = await accounts.create_user("alice", "agent", "h", T0)
    await accounts.audit(user_id=alice.id, action="request.answer", target="request:1",
                         details={"case": 3}, now=T0)
    await accounts.audit(user_id=alice.id, action="case.close", target="case:3", details={},
                         now=T0 + timedelta(seconds=1))
    entries = await accounts.audit_log(limit=100)
    assert [(e.action, e.target) for e in entries] == [
        ("case.close", "case:3"), ("request.answer", "request:1"),
        ("user.create", f"user:{alice.id}"),
    ]
    assert entries[1].details == {"case": 3}
    assert entries[1].user_id == alice.id
    assert [e.action for e in await accounts.audit_log(limit=100, target="case:3")] == [
        "case.close"
    ]
    older = await accounts.audit_log(limit=100, before_id=entries[0].id)
    assert [e.id for e in older] == [e.id for e in entries[1:]]
    assert [e.id for e in await accounts.audit_log(limit=1)] == [entries[0].id]


async def test_creating_a_user_writes_one_audit_row_naming_the_admin(store: Store) -> None:
    admin = await store.accounts.create_user("root", "admin", "h", T0)
    alice = await store.accounts.create_user("alice", "agent", "h", T0, by=admin.id)
    entries = await store.accounts.audit_log(limit=100, target=f"user:{alice.id}")
    assert [(e.action, e.user_id, e.details) for e in entries] == [
        ("user.create", admin.id, {"username": "alice", "role": "agent"}),
    ]
