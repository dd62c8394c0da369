"""Brute force, strangers and stale sessions: logins slow down instead of locking, only the
free attempts are ever checked, guessable passwords and look-alike names are refused, the last
admin stays, and a user's websockets close the moment their access ends."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any

import aiohttp
import pytest

from gateway.api import events_ws
from gateway.service.errors import (
    ConflictError,
    InvalidCredentialsError,
    InvalidInputError,
    RateLimitedError,
)

from .conftest import PASSWORD, Agent, Env


async def _wrong_login(env: Env, username: str) -> int:
    response = await env.client.post("/api/login",
                                     json={"username": username, "password": "wrong guess"})
    return response.status


async def test_100_parallel_wrong_passwords_get_only_the_free_attempts_checked(env: Env) -> None:
    await env.user("alice")
    free = env.config.http.login_max_attempts
    statuses = Counter(await asyncio.gather(*(_wrong_login(env, "alice") for _ in range(100))))
    assert statuses == {401: free, 429: 100 - free}
    entries = await env.workflow.accounts.audit_log(limit=1000)
    assert sum(1 for e in entries if e.action == "login.failed") == free


async def test_a_stranger_slows_only_their_own_guessing_and_never_locks_the_real_user(
    env: Env,
) -> None:
    await env.user("agent")
    await env.user("supervisor", "supervisor")
    accounts = env.workflow.accounts
    stranger = "203.0.113.66"
    for _ in range(10):
        with pytest.raises(InvalidCredentialsError):
            await accounts.login("agent", "wrong guess", stranger)
    with pytest.raises(RateLimitedError):
        await accounts.login("agent", PASSWORD, stranger)
    for name in ("AGENT", "Agent"):  # other (non-existent) usernames: their own counters
        with pytest.raises(InvalidCredentialsError):
            await accounts.login(name, "wrong guess", "198.51.100.7")
    assert (await accounts.login("agent", PASSWORD, "192.0.2.10")).user.username == "agent"
    # 45 failures with as many usernames from one address: that address is slowed down, no
    # account is, and the wait is bounded.
    sprayer = "203.0.113.99"
    waits = []
    for n in range(45):
        try:
            await accounts.login(f"user{n}", "wrong guess", sprayer)
        except RateLimitedError as error:
            waits.append(error.retry_after_s)
        except InvalidCredentialsError:
            continue
    assert waits
    assert max(waits) <= env.config.http.login_backoff_max_s
    assert (await accounts.login("supervisor", PASSWORD, "192.0.2.11")).user.role == "supervisor"


async def test_admin_sees_a_throttle_and_clears_it_through_the_api(env: Env) -> None:
    admin = await env.login("root", "admin")
    await env.user("alice")
    for _ in range(env.config.http.login_max_attempts):
        await _wrong_login(env, "alice")
    assert await _wrong_login(env, "alice") == 429
    status, body = await admin.get("/api/login-limits")
    assert status == 200
    throttled = [t for t in body["throttles"] if t["username"] == "alice"]
    assert throttled
    assert throttled[0]["kind"] == "user_address"
    assert throttled[0]["retry_after_s"] > 0
    status, body = await admin.post("/api/login-limits/clear", {"username": "alice"})
    assert status == 200
    assert body["cleared"] >= 1
    response = await env.client.post("/api/login",
                                      json={"username": "alice", "password": PASSWORD})
    assert response.status == 200
    status, body = await admin.get("/api/login-limits")
    assert [t for t in body["throttles"] if t["username"] == "alice"] == []


async def test_look_alike_usernames_are_refused(env: Env) -> None:
    admin = await env.login("root", "admin")
    await env.user("agent")
    for name in ("AGENT", "Agent", "\uff41\uff47\uff45\uff4e\uff54"):  # the last: full width
        status, body = await admin.post("/api/users", {"username": name, "role": "agent",
                                                       "password": PASSWORD})
        assert status == 409, (name, body)


@pytest.mark.parametrize("password", [
    "password1", "qwertyuiop", "Password123!", "alice2024!", "my-alice-pass-42", "11111111",
])
async def test_guessable_passwords_and_the_username_are_refused(env: Env, password: str) -> None:
    admin = await env.login("root", "admin")
    status, body = await admin.post("/api/users", {"username": "alice", "role": "agent",
                                                   "password": password})
    assert status == 400, body
    assert body["error"]["code"] == "invalid_input"
    with pytest.raises(InvalidInputError):
        await env.workflow.accounts.add_user("alice", "agent", password)


async def test_the_last_admin_cannot_demote_or_disable_themselves(env: Env) -> None:
    admin = await env.login("root", "admin")
    status, body = await admin.post(f"/api/users/{admin.id}", {"role": "agent"})
    assert status == 409
    assert body["error"]["code"] == "last_admin"
    with pytest.raises(ConflictError):
        await env.workflow.accounts.set_disabled("root", True)
    other = await env.login("second", "admin")
    status, _ = await other.post(f"/api/users/{admin.id}", {"role": "supervisor"})
    assert status == 200
    status, body = await other.post(f"/api/users/{other.id}", {"role": "agent"})
    assert status == 409
    assert body["error"]["code"] == "last_admin"


async def _ws(env: Env, agent: Agent) -> aiohttp.ClientWebSocketResponse:
    origin = str(env.client.make_url("")).rstrip("/")
    ws = await agent.client.ws_connect("/api/events", headers={"Origin": origin})
    while json.loads(await ws.receive_str(timeout=5))["type"] != "ready":
        pass
    return ws


async def _closed(ws: aiohttp.ClientWebSocketResponse, timeout_s: float = 5.0) -> int | None:
    while True:
        message = await ws.receive(timeout=timeout_s)
        if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
            return ws.close_code


async def _online(boss: Agent, user_id: int) -> bool:
    status, body = await boss.get("/api/agents")
    assert status == 200
    return any(a["id"] == user_id and a["online"] for a in body["agents"])


ACTIONS: dict[str, Any] = {
    "logout": lambda admin, alice: alice.post("/api/logout"),
    "disable": lambda admin, alice: admin.post(f"/api/users/{alice.id}", {"disabled": True}),
    "password": lambda admin, alice: admin.post(
        f"/api/users/{alice.id}", {"password": "a different passphrase entirely"}),
    "role": lambda admin, alice: admin.post(f"/api/users/{alice.id}", {"role": "supervisor"}),
}


@pytest.mark.parametrize("action", list(ACTIONS))
async def test_ending_access_closes_that_users_websockets_at_once(env: Env, action: str) -> None:
    admin = await env.login("root", "admin")
    alice = await env.login("alice")
    bob = await env.login("bob")
    alice_ws, bob_ws = await _ws(env, alice), await _ws(env, bob)
    try:
        assert await _online(admin, alice.id)
        status, body = await ACTIONS[action](admin, alice)
        assert status == 200, body
        # At once: well before the periodic re-check would notice.
        assert await _closed(alice_ws, timeout_s=events_ws.ACCESS_RECHECK_S / 2) == 4001
        assert not await _online(admin, alice.id)
        assert await _online(admin, bob.id)
        assert not bob_ws.closed
    finally:
        await alice_ws.close()
        await bob_ws.close()


async def test_a_change_made_outside_the_api_closes_the_websocket_on_the_next_check(
    env: Env, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`sms-gateway user disable` runs in another process: the socket's own check sees it."""
    monkeypatch.setattr(events_ws, "ACCESS_RECHECK_S", 0.2)
    alice = await env.login("alice")
    ws = await _ws(env, alice)
    try:
        await env.store.accounts.update_user(alice.id, now=env.clock(), by=None,
                                             disabled=True)
        assert await _closed(ws) == 4001
    finally:
        await ws.close()
