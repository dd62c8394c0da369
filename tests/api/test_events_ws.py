"""The events websocket: live push, replay with ?since=N, resync, and per-agent filtering."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from .conftest import Agent, Env


async def _ws(env: Env, agent: Agent, query: str = "") -> aiohttp.ClientWebSocketResponse:
    origin = str(env.client.make_url("")).rstrip("/")
    return await agent.client.ws_connect(f"/api/events{query}", headers={"Origin": origin})


async def _until(ws: aiohttp.ClientWebSocketResponse, type_: str) -> dict[str, Any]:
    while True:
        message = json.loads(await ws.receive_str(timeout=5))
        if message["type"] == type_:
            return message  # type: ignore[no-any-return]


async def test_request_created_is_pushed_and_answer_removes_it_for_others(env: Env) -> None:
    alice = await env.login("alice")
    bob = await env.login("bob")
    ws_a, ws_b = await _ws(env, alice), await _ws(env, bob)
    try:
        await _until(ws_a, "ready")
        await _until(ws_b, "ready")
        await env.text_in("help")
        created = await _until(ws_b, "request.created")
        request_id = created["data"]["request_id"]
        await alice.post(f"/api/requests/{request_id}/answer", {"action": "new"})
        answered = await _until(ws_b, "request.answered")
        assert answered["data"]["request_id"] == request_id
        opened = await _until(ws_a, "case.opened")
        assert opened["data"]["agent_id"] == alice.id
    finally:
        await ws_a.close()
        await ws_b.close()


async def test_reconnect_with_since_replays_missed_events(env: Env) -> None:
    alice = await env.login("alice")
    ws = await _ws(env, alice)
    ready = await _until(ws, "ready")
    await ws.close()
    await env.text_in("while you were away")
    ws = await _ws(env, alice, f"?since={ready['seq']}")
    try:
        replayed = await _until(ws, "request.created")
        assert replayed["seq"] > ready["seq"]
        done = await _until(ws, "ready")
        assert done["data"]["replayed"] >= 2  # message.created and request.created
    finally:
        await ws.close()


async def test_since_beyond_the_log_gets_resync(env: Env) -> None:
    alice = await env.login("alice")
    ws = await _ws(env, alice, "?since=999999")
    try:
        resync = await _until(ws, "resync")
        assert "seq" in resync["data"]
    finally:
        await ws.close()


async def test_agent_sees_only_own_case_events(env: Env) -> None:
    alice = await env.login("alice")
    bob = await env.login("bob")
    ws_b = await _ws(env, bob)
    try:
        await _until(ws_b, "ready")
        await alice.post("/api/cases", {"phone": "+15551230000"})
        await bob.post("/api/cases", {"phone": "+15551230001"})
        opened = await _until(ws_b, "case.opened")
        assert opened["data"]["agent_id"] == bob.id
    finally:
        await ws_b.close()


async def test_a_plain_get_is_refused_as_documented(env: Env) -> None:
    await env.user("desk")
    token = await env.workflow.accounts.create_token("desk", "desk", ["events:read"])
    response = await env.client.get("/api/events",
                                    headers={"Authorization": f"Bearer {token.secret}"})
    assert response.status == 400
    assert (await response.json())["error"]["code"] == "bad_request"
