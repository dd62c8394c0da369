"""Presence and capacity: only available agents under routing.max_open_cases are rung,
offered or may answer; an agent at the cap still sees the queue."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gateway.bus import BusEvent

from .conftest import Agent, Env
from .desk import answered_case
from .test_transfers import next_event, online

SECOND = "+15557654321"


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {"routing": {"max_open_cases": 1, "mode": "round_robin", "round_robin_offer_s": 60,
                        "wrap_up_time_s": 0.3}}


async def put_presence(agent: Agent, status: str) -> tuple[int, Any]:
    response = await agent.client.put("/api/me/presence", json={"status": status},
                                      headers={"X-CSRF-Token": agent.csrf})
    return response.status, await response.json()


async def test_an_agent_at_the_cap_sees_the_queue_but_cannot_answer(env: Env) -> None:
    alice = await env.login("alice")
    case = await answered_case(env, alice)
    presence = (await alice.get("/api/me/presence"))[1]["presence"]
    assert (presence["open_cases"], presence["max_open_cases"], presence["at_capacity"]) == (
        1, 1, True)
    await env.text_in("hello", sender=SECOND)
    [request] = (await alice.get("/api/requests"))[1]["requests"]
    status, body = await alice.post(f"/api/requests/{request['id']}/answer", {"action": "new"})
    assert status == 409
    assert body["error"]["code"] == "at_capacity"
    await alice.post(f"/api/cases/{case['id']}/close")
    await put_presence(alice, "available")  # ends the wrap-up time early
    status, body = await alice.post(f"/api/requests/{request['id']}/answer", {"action": "new"})
    assert status == 200, body


async def test_away_agents_cannot_answer_until_available(env: Env) -> None:
    alice = await env.login("alice")
    status, body = await put_presence(alice, "away")
    assert status == 200
    assert body["presence"]["status"] == "away"
    await env.text_in("hi")
    [request] = (await alice.get("/api/requests"))[1]["requests"]
    status, body = await alice.post(f"/api/requests/{request['id']}/answer", {"action": "new"})
    assert (status, body["error"]["code"]) == (409, "not_available")
    await put_presence(alice, "available")
    status, body = await alice.post(f"/api/requests/{request['id']}/answer", {"action": "new"})
    assert status == 200, body
    assert (await put_presence(alice, "asleep"))[0] == 400


async def test_round_robin_offers_only_to_agents_under_the_cap(env: Env) -> None:
    alice = await env.login("alice")
    bob = await env.login("bob")
    alice_ws = await online(env, alice)
    bob_ws = await online(env, bob)
    try:
        await answered_case(env, alice)  # alice is now at her cap of one
        for _ in range(2):
            await env.text_in("need help", sender=SECOND)
            while (created := await next_event(bob_ws, "request.created"))["data"][
                    "phone"] != SECOND:
                pass
            assert created["data"]["offered_to"] == bob.id
            [request] = [r for r in (await bob.get("/api/requests"))[1]["requests"]]
            await bob.post(f"/api/requests/{request['id']}/answer", {"action": "new"})
            case_id = (await bob.get("/api/cases?status=open"))[1]["cases"][0]["id"]
            await bob.post(f"/api/cases/{case_id}/close")
            await put_presence(bob, "available")
    finally:
        await alice_ws.close()
        await bob_ws.close()


async def test_wrap_up_time_follows_a_close_then_available_again(env: Env) -> None:
    alice = await env.login("alice")
    case = await answered_case(env, alice)
    subscription = env.bus.subscribe()
    statuses: list[str] = []
    try:
        status, body = await alice.post(f"/api/cases/{case['id']}/close")
        assert status == 200, body
        # Followed by its events, not by the clock: the wrap-up may end before a read could ask.
        async with asyncio.timeout(10):
            while statuses[-1:] != ["available"]:
                event: BusEvent = await subscription.get()
                if event.type == "agent.presence" and event.data["agent_id"] == alice.id:
                    statuses.append(event.data["status"])
    finally:
        subscription.close()
    assert statuses == ["wrap_up", "available"]
    assert (await alice.get("/api/me/presence"))[1]["presence"]["status"] == "available"
