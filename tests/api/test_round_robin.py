"""Round-robin routing: a request is offered to one available agent at a time, and moves on to
the next when it is not answered within round_robin_offer_s or its agent goes offline."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest

from .conftest import Agent, Env

OFFER_S = 30.0


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {"routing": {"mode": "round_robin", "round_robin_offer_s": OFFER_S,
                        "overdue_after_s": 3600}}


async def _online(env: Env, agent: Agent) -> aiohttp.ClientWebSocketResponse:
    """An agent is available while their console holds the events websocket open."""
    origin = str(env.client.make_url("")).rstrip("/")
    ws = await agent.client.ws_connect("/api/events", headers={"Origin": origin})
    while json.loads(await ws.receive_str(timeout=5))["type"] != "ready":
        pass
    return ws


async def _next(ws: aiohttp.ClientWebSocketResponse, type_: str) -> dict[str, Any]:
    while True:
        message = json.loads(await ws.receive_str(timeout=5))
        if message["type"] == type_:
            return message["data"]  # type: ignore[no-any-return]


async def _queue(agent: Agent) -> list[int]:
    status, body = await agent.get("/api/requests")
    assert status == 200
    return [request["id"] for request in body["requests"]]


async def test_request_is_offered_to_one_available_agent_then_moves_on(env: Env) -> None:
    alice = await env.login("alice")
    bob = await env.login("bob")
    carol = await env.login("carol")  # logged in but no console open: not available
    boss = await env.login("boss", "supervisor")
    ws_alice, ws_bob = await _online(env, alice), await _online(env, bob)
    try:
        await env.text_in("first customer")
        created = await _next(ws_bob, "request.created")
        offered_first = created["offered_to"]
        assert offered_first in (alice.id, bob.id)
        request_id = created["request_id"]
        first, second = (alice, bob) if offered_first == alice.id else (bob, alice)
        assert await _queue(first) == [request_id]
        assert await _queue(second) == []
        assert await _queue(carol) == []
        assert await _queue(boss) == [request_id]  # supervisors see the whole queue

        # Not answered in time: offered to the next available agent, never to carol.
        env.clock.advance(OFFER_S - 1)
        await env.workflow.router.tick()
        assert await _queue(first) == [request_id]
        env.clock.advance(2)
        await env.workflow.router.tick()
        offered = await _next(ws_alice if second is alice else ws_bob, "request.offered")
        assert offered == {"request_id": request_id, "agent_id": second.id}
        assert await _queue(second) == [request_id]
        assert await _queue(first) == []
        assert await _queue(carol) == []

        # The next request goes to the other agent: one offer each, in turn.
        await env.text_in("second customer", sender="+15557654321")
        [other] = [r for r in await _queue(boss) if r != request_id]
        assert await _queue(first) == [other]

        status, _ = await second.post(f"/api/requests/{request_id}/answer", {"action": "new"})
        assert status == 200
        assert await _queue(first) == [other]
    finally:
        await ws_alice.close()
        await ws_bob.close()


async def test_offer_moves_on_at_once_when_its_agent_goes_offline(env: Env) -> None:
    alice = await env.login("alice")
    bob = await env.login("bob")
    sockets = {alice.id: await _online(env, alice), bob.id: await _online(env, bob)}
    try:
        await env.text_in("hello?")
        created = await _next(sockets[bob.id], "request.created")
        leaver = created["offered_to"]
        stayer = bob if leaver == alice.id else alice
        await sockets[leaver].close()
        async with asyncio.timeout(5):
            # Presence has no change notification; the server notes the close soon after.
            while env.workflow.presence.is_online(leaver):  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        await env.workflow.router.tick()  # no time has passed
        offered = await _next(sockets[stayer.id], "request.offered")
        assert offered == {"request_id": created["request_id"], "agent_id": stayer.id}
        assert await _queue(stayer) == [created["request_id"]]
    finally:
        for ws in sockets.values():
            await ws.close()
