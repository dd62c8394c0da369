"""Every endpoint refuses anonymous and cross-role callers; CSRF, Origin, tokens and limits hold."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import PASSWORD, Env

# (method, path, least role) for every authenticated endpoint.
ENDPOINTS: list[tuple[str, str, str]] = [
    ("POST", "/api/logout", "agent"),
    ("GET", "/api/me", "agent"),
    ("GET", "/api/requests", "agent"),
    ("POST", "/api/requests/1/answer", "agent"),
    ("POST", "/api/cases", "agent"),
    ("GET", "/api/cases", "agent"),
    ("GET", "/api/cases/1", "agent"),
    ("GET", "/api/cases/1/messages", "agent"),
    ("POST", "/api/cases/1/messages", "agent"),
    ("POST", "/api/cases/1/close", "agent"),
    ("POST", "/api/cases/1/reassign", "supervisor"),
    ("GET", "/api/lines", "agent"),
    ("GET", "/api/compose/preview?text=hi", "agent"),
    ("GET", "/api/agents", "supervisor"),
    ("GET", "/api/users", "admin"),
    ("POST", "/api/users", "admin"),
    ("POST", "/api/users/1", "admin"),
    ("GET", "/api/tokens", "admin"),
    ("POST", "/api/tokens", "admin"),
    ("POST", "/api/tokens/1/revoke", "admin"),
    ("GET", "/api/audit", "admin"),
    ("GET", "/api/quarantine", "admin"),
    ("GET", "/api/login-limits", "admin"),
    ("POST", "/api/login-limits/clear", "admin"),
    ("GET", "/api/events", "agent"),
]


async def test_every_endpoint_refuses_anonymous_callers(env: Env) -> None:
    for method, path, _ in ENDPOINTS:
        response = await env.client.request(method, path, json={})
        assert response.status == 401, (method, path)
        body = await response.json()
        assert body["error"]["code"] == "unauthenticated"


@pytest.mark.parametrize("role", ["agent", "supervisor"])
async def test_endpoints_above_a_role_are_refused_to_it(env: Env, role: str) -> None:
    rank = {"agent": 0, "supervisor": 1, "admin": 2}
    caller = await env.login("someone", role)
    for method, path, least in ENDPOINTS:
        if rank[least] <= rank[role]:
            continue
        status, body = await (caller.get(path) if method == "GET" else caller.post(path, {}))
        assert status == 403, (method, path, body)


async def test_agent_cannot_read_or_send_on_another_agents_case(env: Env) -> None:
    alice = await env.login("alice")
    bob = await env.login("bob")
    case = (await alice.post("/api/cases", {"phone": "+15551230000"}))[1]["case"]
    for method, path, body in [
        ("GET", f"/api/cases/{case['id']}", None),
        ("GET", f"/api/cases/{case['id']}/messages", None),
        ("POST", f"/api/cases/{case['id']}/messages", {"text": "hi"}),
        ("POST", f"/api/cases/{case['id']}/close", {}),
    ]:
        status, answer = await (bob.get(path) if method == "GET" else bob.post(path, body))
        assert status == 403, (path, answer)
    assert [c["id"] for c in (await bob.get("/api/cases"))[1]["cases"]] == []
    boss = await env.login("boss", "supervisor")
    assert [c["id"] for c in (await boss.get("/api/cases"))[1]["cases"]] == [case["id"]]


async def test_mutating_request_without_csrf_header_is_refused(env: Env) -> None:
    alice = await env.login("alice")
    response = await alice.client.post("/api/cases", json={"phone": "+15551230000"})
    assert response.status == 403
    assert (await response.json())["error"]["code"] == "csrf_failed"
    response = await alice.client.post("/api/cases", json={"phone": "+15551230000"},
                                       headers={"X-CSRF-Token": "wrong"})
    assert response.status == 403


async def test_foreign_origin_is_refused_for_writes_and_websocket(env: Env) -> None:
    alice = await env.login("alice")
    status, body = await alice.post("/api/cases", {"phone": "+15551230000"},
                                    headers={"Origin": "https://evil.example"})
    assert status == 403
    assert body["error"]["code"] == "bad_origin"
    response = await alice.client.get("/api/events", headers={
        "Origin": "https://evil.example", "Upgrade": "websocket", "Connection": "Upgrade",
        "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    })
    assert response.status == 403


async def test_session_cookie_is_httponly_and_samesite_strict(env: Env) -> None:
    await env.user("alice")
    response = await env.client.post("/api/login",
                                     json={"username": "alice", "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie


async def test_logout_ends_the_session(env: Env) -> None:
    alice = await env.login("alice")
    assert (await alice.post("/api/logout"))[0] == 200
    assert (await alice.get("/api/me"))[0] == 401


async def test_login_is_rate_limited_per_user(env: Env) -> None:
    await env.user("alice")
    limit = env.config.http.login_max_attempts
    for _ in range(limit):
        response = await env.client.post("/api/login",
                                         json={"username": "alice", "password": "wrong!!!"})
        assert response.status == 401
    response = await env.client.post("/api/login", json={"username": "alice",
                                                         "password": PASSWORD})
    assert response.status == 429
    assert "Retry-After" in response.headers


async def test_api_token_works_within_its_scopes_only(env: Env) -> None:
    await env.user("alice")
    created = await env.workflow.accounts.create_token("crm", "alice", ["cases:read"])
    auth = {"Authorization": f"Bearer {created.secret}"}
    response = await env.client.get("/api/cases", headers=auth)
    assert response.status == 200
    response = await env.client.get("/api/requests", headers=auth)
    assert response.status == 403
    response = await env.client.post("/api/cases", json={"phone": "+15551230000"}, headers=auth)
    assert response.status == 403
    tokens = await env.workflow.accounts.list_tokens()
    assert created.secret not in repr(tokens)  # stored hashed
    await env.workflow.accounts.revoke_token(created.token.id)
    assert (await env.client.get("/api/cases", headers=auth)).status == 401


async def test_a_disabled_users_token_is_refused(env: Env) -> None:
    await env.user("crm-bot")
    created = await env.workflow.accounts.create_token("crm", "crm-bot", ["cases:read"])
    auth = {"Authorization": f"Bearer {created.secret}"}
    assert (await env.client.get("/api/cases", headers=auth)).status == 200
    await env.workflow.accounts.set_disabled("crm-bot", True)
    assert (await env.client.get("/api/cases", headers=auth)).status == 401
    await env.workflow.accounts.set_disabled("crm-bot", False)
    assert (await env.client.get("/api/cases", headers=auth)).status == 200


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"phone": "+15551230000", "extra": 1}, "invalid_input"),
        ({"phone": 5551230000}, "invalid_input"),
        ({}, "invalid_input"),
    ],
)
async def test_invalid_bodies_are_400_with_json_error(
    env: Env, body: dict[str, Any], code: str
) -> None:
    alice = await env.login("alice")
    status, answer = await alice.post("/api/cases", body)
    assert status == 400
    assert answer["error"]["code"] == code


async def test_oversized_body_is_413_json(env: Env) -> None:
    alice = await env.login("alice")
    big = "x" * (env.config.http.max_body_bytes + 10)
    status, answer = await alice.post("/api/cases/1/messages", {"text": big})
    assert status == 413
    assert answer["error"]["code"] == "body_too_large"


async def test_text_longer_than_max_parts_is_refused(env: Env) -> None:
    alice = await env.login("alice")
    case = (await alice.post("/api/cases", {"phone": "+15551230000"}))[1]["case"]
    too_long = "x" * (153 * env.config.sending.max_parts + 1)
    status, answer = await alice.post(f"/api/cases/{case['id']}/messages", {"text": too_long})
    assert status == 400
    assert answer["error"]["code"] == "text_too_long"
    assert env.outbound.wakes == 0


@pytest.mark.parametrize("text", ["ali\x00ce", "\ud800lone surrogate"])
async def test_text_no_database_can_hold_is_refused_not_an_error(env: Env, text: str) -> None:
    response = await env.client.post("/api/login", json={"username": text, "password": "x"})
    assert response.status == 400
    assert (await response.json())["error"]["code"] == "invalid_input"
    alice = await env.login("alice")
    status, body = await alice.post("/api/cases", {"phone": "+15551230000", "line": text})
    assert status == 400
    assert body["error"]["code"] == "invalid_input"
