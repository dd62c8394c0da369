"""The agents' workflow through the API: requests, answering, history, Send, close, continue."""

from __future__ import annotations

import asyncio

import pytest

from .conftest import CUSTOMER, LINE_NUMBER, Env


async def test_text_from_new_number_raises_a_request_shown_to_agents(env: Env) -> None:
    alice = await env.login("alice")
    await env.text_in("Hello, I need help")
    env.clock.advance(42)
    status, body = await alice.get("/api/requests")
    assert status == 200
    [request] = body["requests"]
    assert request["name"] == "SMS Chat Request"
    assert request["call_id"] == f"SMS{CUSTOMER}"
    assert request["phone"] == CUSTOMER
    assert request["line"]["name"] == "line-1"
    assert request["preview"] == "Hello, I need help"
    assert request["waiting_s"] == 42
    assert request["recent_case"] is None


async def test_answer_returns_case_with_phone_and_history(env: Env) -> None:
    alice = await env.login("alice")
    await env.text_in("first")
    await env.text_in("second")
    [request] = (await alice.get("/api/requests"))[1]["requests"]
    assert request["preview"] == "second"
    status, body = await alice.post(f"/api/requests/{request['id']}/answer", {"action": "new"})
    assert status == 200, body
    assert body["case"]["phone"] == CUSTOMER
    assert body["case"]["status"] == "open"
    assert body["case"]["agent"] == "alice"
    assert [m["text"] for m in body["history"]["messages"]] == ["first", "second"]
    assert (await alice.get("/api/requests"))[1]["requests"] == []


async def test_two_agents_answering_at_once_one_wins_other_gets_409(env: Env) -> None:
    alice = await env.login("alice")
    bob = await env.login("bob")
    await env.text_in("help")
    [request] = (await alice.get("/api/requests"))[1]["requests"]
    path = f"/api/requests/{request['id']}/answer"
    results = await asyncio.gather(alice.post(path, {"action": "new"}),
                                   bob.post(path, {"action": "new"}))
    assert sorted(status for status, _ in results) == [200, 409]
    loser = next(body for status, body in results if status == 409)
    assert loser["error"]["code"] == "already_answered"
    winner = "alice" if results[0][0] == 200 else "bob"
    assert loser["error"]["message"] == (
        f"{winner} answered this customer first; the chat is in their cases."
    )


async def test_texts_during_open_case_go_to_the_case_not_the_queue(env: Env) -> None:
    alice = await env.login("alice")
    await env.text_in("hi")
    [request] = (await alice.get("/api/requests"))[1]["requests"]
    case = (await alice.post(f"/api/requests/{request['id']}/answer", {"action": "new"}))[1]["case"]
    await env.text_in("are you there?")
    assert (await alice.get("/api/requests"))[1]["requests"] == []
    status, history = await alice.get(f"/api/cases/{case['id']}/messages")
    assert status == 200
    assert [m["text"] for m in history["messages"]] == ["hi", "are you there?"]


async def test_send_queues_one_message_and_retry_with_same_key_is_a_no_op(env: Env) -> None:
    alice = await env.login("alice")
    await env.text_in("hi")
    [request] = (await alice.get("/api/requests"))[1]["requests"]
    case = (await alice.post(f"/api/requests/{request['id']}/answer", {"action": "new"}))[1]["case"]
    text = "x" * 400
    path = f"/api/cases/{case['id']}/messages"
    status, first = await alice.post(path, {"text": text}, headers={"Idempotency-Key": "k1"})
    assert status == 201, first
    assert first["message"]["direction"] == "out"
    assert len(first["message"]["parts"]) == 3
    assert first["message"]["delivery"]["queued"] == 3
    status, again = await alice.post(path, {"text": text}, headers={"Idempotency-Key": "k1"})
    assert status == 200
    assert again["message"]["id"] == first["message"]["id"]
    assert again["created"] is False
    assert env.outbound.wakes == 1
    history = (await alice.get(path))[1]["messages"]
    assert [m["direction"] for m in history] == ["in", "out"]


async def test_nothing_is_sent_without_an_agents_send(env: Env) -> None:
    alice = await env.login("alice")
    await env.text_in("hi")
    [request] = (await alice.get("/api/requests"))[1]["requests"]
    case = (await alice.post(f"/api/requests/{request['id']}/answer", {"action": "new"}))[1]["case"]
    await env.text_in("STOP")
    await alice.post(f"/api/cases/{case['id']}/close")
    await env.text_in("again")
    history = (await alice.get(f"/api/cases/{case['id']}/messages"))[1]["messages"]
    assert all(m["direction"] == "in" for m in history)
    assert env.outbound.wakes == 0


async def test_after_close_a_new_text_raises_request_offering_to_continue(env: Env) -> None:
    alice = await env.login("alice")
    await env.text_in("hi")
    [request] = (await alice.get("/api/requests"))[1]["requests"]
    case = (await alice.post(f"/api/requests/{request['id']}/answer", {"action": "new"}))[1]["case"]
    status, closed = await alice.post(f"/api/cases/{case['id']}/close")
    assert status == 200
    assert closed["case"]["status"] == "closed"
    await env.text_in("me again")
    [request] = (await alice.get("/api/requests"))[1]["requests"]
    recent = request["recent_case"]
    assert recent["id"] == case["id"]
    assert recent["closed_by"] == "alice"
    assert recent["closed_at"] is not None
    status, body = await alice.post(f"/api/requests/{request['id']}/answer",
                                    {"action": "continue"})
    assert status == 200, body
    assert body["case"]["id"] == case["id"]
    assert body["case"]["status"] == "open"
    assert [m["text"] for m in body["history"]["messages"]] == ["hi", "me again"]


async def test_outbound_chat_reuses_the_open_case(env: Env) -> None:
    alice = await env.login("alice")
    status, first = await alice.post("/api/cases", {"phone": "(555) 123-4567"})
    assert status == 201, first
    assert first["case"]["phone"] == CUSTOMER
    status, second = await alice.post("/api/cases", {"phone": CUSTOMER})
    assert status == 200
    assert second["case"]["id"] == first["case"]["id"]
    assert second["created"] is False


async def test_invalid_phone_is_a_400_naming_the_problem(env: Env) -> None:
    alice = await env.login("alice")
    status, body = await alice.post("/api/cases", {"phone": "12"})
    assert status == 400
    assert body["error"]["code"] == "invalid_phone"
    assert "12" in body["error"]["message"]


async def test_a_chat_with_the_gateways_own_number_is_refused(env: Env) -> None:
    # It would only text itself: the reply would come back in as a customer's request.
    alice = await env.login("alice")
    status, body = await alice.post("/api/cases", {"phone": LINE_NUMBER})
    assert status == 400
    assert body["error"]["code"] == "own_number"
    assert "own line" in body["error"]["message"]
    assert (await alice.get("/api/cases?status=open"))[1]["cases"] == []


@pytest.mark.parametrize("number", ["911", "112", "(911)"])
async def test_an_emergency_number_is_refused_with_the_reason(env: Env, number: str) -> None:
    alice = await env.login("alice")
    status, body = await alice.post("/api/cases", {"phone": number})
    assert (status, body["error"]["code"]) == (400, "invalid_phone")
    assert "emergency number" in body["error"]["message"]
