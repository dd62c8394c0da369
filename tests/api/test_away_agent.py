"""No agent misses a text: a text in the open case of an agent with no console open for
routing.offline_after_s rings the others, and answering it continues that case."""

from __future__ import annotations

from typing import Any

from aiohttp import ClientWebSocketResponse

from .conftest import Agent, Env


async def _console(agent: Agent, env: Env) -> ClientWebSocketResponse:
    origin = str(env.client.make_url("")).rstrip("/")
    ws = await agent.client.ws_connect("/api/events", headers={"Origin": origin})
    await ws.receive_json()  # the stream's hello: the agent is connected from here on
    return ws


async def _answer(agent: Agent, request_id: int) -> dict[str, Any]:
    status, body = await agent.post(f"/api/requests/{request_id}/answer", {"action": "new"})
    assert status == 200, body
    case: dict[str, Any] = body["case"]
    return case


async def test_a_text_for_an_away_agent_rings_the_others_and_answering_continues_the_case(
    env: Env,
) -> None:
    alice = await env.login("alice")
    bob = await env.login("bob")
    supervisor = await env.login("sue", "supervisor")
    await env.text_in("first")
    [request] = (await alice.get("/api/requests"))[1]["requests"]
    case = await _answer(alice, request["id"])

    await env.text_in("still there?")  # alice left only a moment ago: her case, no ring yet
    assert (await bob.get("/api/requests"))[1]["requests"] == []

    env.clock.advance(61)
    await env.workflow.router.tick()  # her grace is over and she is not back: it rings now
    [ring] = (await bob.get("/api/requests"))[1]["requests"]
    assert (ring["case_id"], ring["away_agent"], ring["preview"]) == (
        case["id"], "alice", "still there?"
    )
    await env.text_in("hello? anyone?")  # the customer's next text: still one ring
    assert [r["id"] for r in (await bob.get("/api/requests"))[1]["requests"]] == [ring["id"]]
    [seen] = (await supervisor.get("/api/requests"))[1]["requests"]
    assert seen["away_agent"] == "alice"

    taken = await _answer(bob, ring["id"])
    assert (taken["id"], taken["agent"], taken["status"]) == (case["id"], "bob", "open")
    history = (await bob.get(f"/api/cases/{case['id']}/messages"))[1]["messages"]
    assert [m["text"] for m in history] == ["first", "still there?", "hello? anyone?"]
    status, body = await alice.get(f"/api/cases/{case['id']}")
    assert status == 403 or body["case"]["agent"] == "bob"


async def test_an_agent_with_a_console_open_keeps_the_text_in_their_case(env: Env) -> None:
    alice = await env.login("alice")
    bob = await env.login("bob")
    await env.text_in("first")
    [request] = (await alice.get("/api/requests"))[1]["requests"]
    await _answer(alice, request["id"])
    ws = await _console(alice, env)
    try:
        env.clock.advance(600)
        await env.text_in("are you there?")
        assert (await bob.get("/api/requests"))[1]["requests"] == []
    finally:
        await ws.close()


async def test_an_agent_logging_out_hands_a_case_back_and_another_continues_it(
    env: Env,
) -> None:
    alice = await env.login("alice")
    bob = await env.login("bob")
    await env.text_in("my order is late")
    [request] = (await alice.get("/api/requests"))[1]["requests"]
    case = await _answer(alice, request["id"])
    status, body = await bob.post(f"/api/cases/{case['id']}/handback")
    assert status == 403, body
    status, body = await alice.post(f"/api/cases/{case['id']}/handback")
    assert (status, body) == (200, {"ok": True})
    [ring] = (await bob.get("/api/requests"))[1]["requests"]
    assert (ring["case_id"], ring["preview"]) == (case["id"], "my order is late")
    taken = await _answer(bob, ring["id"])
    assert (taken["id"], taken["agent"]) == (case["id"], "bob")


async def test_after_a_logout_the_customers_next_text_rings_the_others_at_once(
    env: Env,
) -> None:
    # "Keep it" on logout keeps the case, and promises the customer is not left waiting.
    alice = await env.login("alice")
    bob = await env.login("bob")
    await env.text_in("first")
    [request] = (await alice.get("/api/requests"))[1]["requests"]
    case = await _answer(alice, request["id"])
    ws = await _console(alice, env)
    status, _ = await alice.post("/api/logout")
    assert status == 200
    await ws.receive()  # the server closes her console
    await env.text_in("hello?? my agent left")
    [ring] = (await bob.get("/api/requests"))[1]["requests"]
    assert (ring["case_id"], ring["away_agent"], ring["preview"]) == (
        case["id"], "alice", "hello?? my agent left")


async def test_the_ring_for_an_away_agent_stops_when_they_come_back(env: Env) -> None:
    alice = await env.login("alice")
    bob = await env.login("bob")
    await env.text_in("first")
    [request] = (await alice.get("/api/requests"))[1]["requests"]
    case = await _answer(alice, request["id"])
    env.clock.advance(61)
    await env.text_in("anyone?")
    [ring] = (await bob.get("/api/requests"))[1]["requests"]
    assert ring["case_id"] == case["id"]
    ws = await _console(alice, env)  # alice is back, with her case
    try:
        await env.workflow.router.tick()
        assert (await bob.get("/api/requests"))[1]["requests"] == []
        status, body = await alice.get(f"/api/cases/{case['id']}")
        assert (status, body["case"]["agent"], body["case"]["status"]) == (200, "alice", "open")
        status, body = await bob.post(f"/api/requests/{ring['id']}/answer", {"action": "new"})
        assert status == 409, body  # nobody can take it from her now
    finally:
        await ws.close()
