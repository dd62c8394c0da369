"""Transfers: to another available agent who accepts or declines, or back to the queue where
answering the request takes the case over; the case and its texts stay together."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from .conftest import Agent, Env
from .desk import answered_case, outbound_count


async def online(env: Env, agent: Agent) -> aiohttp.ClientWebSocketResponse:
    origin = str(env.client.make_url("")).rstrip("/")
    ws = await agent.client.ws_connect("/api/events", headers={"Origin": origin})
    while json.loads(await ws.receive_str(timeout=5))["type"] != "ready":
        pass
    return ws


async def next_event(ws: aiohttp.ClientWebSocketResponse, type_: str) -> dict[str, Any]:
    while True:
        event: dict[str, Any] = json.loads(await ws.receive_str(timeout=5))
        if event["type"] == type_:
            return event


async def test_transfer_to_an_available_agent_who_accepts(env: Env) -> None:
    alice = await env.login("alice")
    bob = await env.login("bob")
    case = await answered_case(env, alice, "my bill is wrong")
    ws = await online(env, bob)
    try:
        status, body = await alice.post(f"/api/cases/{case['id']}/transfer",
                                        {"agent": "bob", "note": "billing, Bob knows it"})
        assert status == 201, body
        assert body["transfer"]["status"] == "pending"
        offer = await next_event(ws, "case.transfer")  # Bob's console is rung
        assert offer["data"]["offered_to"] == bob.id
        assert offer["data"]["note"] == "billing, Bob knows it"
        # Until Bob accepts, the case is Alice's and a new text lands in it.
        await env.text_in("also the late fee")
        assert (await alice.get(f"/api/cases/{case['id']}"))[1]["case"]["agent"] == "alice"
        assert [t["case_id"] for t in (await bob.get("/api/transfers"))[1]["transfers"]] == [
            case["id"]]
        status, body = await bob.post(f"/api/cases/{case['id']}/transfer/accept")
        assert status == 200, body
        assert body["case"]["agent"] == "bob"
    finally:
        await ws.close()
    history = (await bob.get(f"/api/cases/{case['id']}/messages"))[1]["messages"]
    assert [m["text"] for m in history] == ["my bill is wrong", "also the late fee"]
    notes = (await bob.get(f"/api/cases/{case['id']}/notes"))[1]["notes"]
    assert notes[-1]["text"] == "Transfer to bob by alice: billing, Bob knows it"
    assert (await alice.get(f"/api/cases/{case['id']}"))[0] == 403
    assert await outbound_count(env) == 0


async def test_a_declined_transfer_leaves_the_case_with_its_agent(env: Env) -> None:
    alice = await env.login("alice")
    bob = await env.login("bob")
    case = await answered_case(env, alice)
    ws = await online(env, bob)
    try:
        await alice.post(f"/api/cases/{case['id']}/transfer", {"agent": "bob"})
        status, body = await bob.post(f"/api/cases/{case['id']}/transfer/decline")
        assert status == 200, body
        assert body["transfer"]["status"] == "declined"
    finally:
        await ws.close()
    assert (await alice.get(f"/api/cases/{case['id']}"))[1]["case"]["agent"] == "alice"
    assert (await bob.post(f"/api/cases/{case['id']}/transfer/accept"))[0] == 404


async def test_an_agent_without_the_console_open_cannot_be_offered_a_case(env: Env) -> None:
    alice = await env.login("alice")
    await env.login("bob")
    case = await answered_case(env, alice)
    status, body = await alice.post(f"/api/cases/{case['id']}/transfer", {"agent": "bob"})
    assert status == 409
    assert body["error"]["code"] == "agent_unavailable"
    status, body = await alice.post(f"/api/cases/{case['id']}/transfer", {"agent": "nobody"})
    assert status == 400
    status, body = await alice.post(f"/api/cases/{case['id']}/transfer",
                                    {"agent": "bob", "queue": True})
    assert status == 400


async def test_back_to_the_queue_the_answer_continues_the_case(env: Env) -> None:
    alice = await env.login("alice")
    bob = await env.login("bob")
    case = await answered_case(env, alice, "first")
    status, body = await alice.post(f"/api/cases/{case['id']}/transfer",
                                    {"queue": True, "note": "end of my shift"})
    assert status == 201, body
    assert body["transfer"]["queue"] is True
    await env.text_in("hello?")  # still filed in the case, not a second request
    [request] = (await bob.get("/api/requests"))[1]["requests"]
    assert request["recent_case"]["id"] == case["id"]
    status, body = await bob.post(f"/api/requests/{request['id']}/answer", {"action": "new"})
    assert status == 200, body
    assert body["case"]["id"] == case["id"]
    assert body["case"]["agent"] == "bob"
    assert [m["text"] for m in body["history"]["messages"]] == ["first", "hello?"]
    assert (await bob.get("/api/requests"))[1]["requests"] == []
    status, body = await alice.post(f"/api/requests/{request['id']}/answer", {"action": "new"})
    assert status == 409


async def test_closing_withdraws_a_queue_transfer(env: Env) -> None:
    alice = await env.login("alice")
    case = await answered_case(env, alice)
    await alice.post(f"/api/cases/{case['id']}/transfer", {"queue": True})
    assert len((await alice.get("/api/requests"))[1]["requests"]) == 1
    status, _ = await alice.post(f"/api/cases/{case['id']}/close")
    assert status == 200
    assert (await alice.get("/api/requests"))[1]["requests"] == []


async def test_transfer_targets_are_the_available_colleagues(env: Env) -> None:
    alice = await env.login("alice")
    bob = await env.login("bob")
    await env.login("carol")
    ws = await online(env, bob)
    try:
        status, body = await alice.get("/api/transfer-targets")
    finally:
        await ws.close()
    assert status == 200
    assert [a["username"] for a in body["agents"]] == ["bob"]
