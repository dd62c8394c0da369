"""Agents' expectations: placeholders, emoji, address search, opt-out, overdue, audit, offline."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from .conftest import CUSTOMER, Env


async def _answer(env: Env, agent: Any) -> dict[str, Any]:
    [request] = (await agent.get("/api/requests"))[1]["requests"]
    status, body = await agent.post(f"/api/requests/{request['id']}/answer", {"action": "new"})
    assert status == 200, body
    return body  # type: ignore[no-any-return]


async def test_non_text_content_shows_a_placeholder(env: Env) -> None:
    alice = await env.login("alice")
    await env.text_in(None, placeholder="binary content (8-bit data)")
    [request] = (await alice.get("/api/requests"))[1]["requests"]
    assert "binary" in request["preview"]
    body = await _answer(env, alice)
    [message] = body["history"]["messages"]
    assert message["is_text"] is False
    assert "binary" in message["placeholder"]


async def test_emoji_round_trip_uses_ucs2(env: Env) -> None:
    alice = await env.login("alice")
    await env.text_in("Thanks 😀")
    body = await _answer(env, alice)
    assert body["history"]["messages"][0]["text"] == "Thanks 😀"
    status, sent = await alice.post(f"/api/cases/{body['case']['id']}/messages",
                                    {"text": "You're welcome 👍 https://example.com/x"})
    assert status == 201
    assert sent["message"]["encoding"] == "ucs2"
    status, preview = await alice.get("/api/compose/preview", params={"text": "Hi 👍"})
    assert preview["encoding"] == "ucs2"
    assert preview["ucs2_characters"] == ["👍"]


@pytest.fixture
def config_overrides(tmp_path: Path) -> dict[str, Any]:
    directory = tmp_path / "addresses.csv"
    directory.write_text(f"phone,address\n{CUSTOMER},1 Main St, Springfield\n")
    return {"address_search": {"provider": "csv", "path": str(directory)}}


async def test_answer_fills_address_from_configured_directory(env: Env) -> None:
    alice = await env.login("alice")
    await env.text_in("hi")
    body = await _answer(env, alice)
    case = body["case"]
    # Answering waits a moment for the search, then finishes it in the background.
    async with asyncio.timeout(10):
        while case["address"]["status"] == "pending":
            await asyncio.sleep(0.05)
            _status, reply = await alice.get(f"/api/cases/{case['id']}")
            case = reply["case"]
    assert case["address"]["status"] == "found"
    assert case["address"]["address"].startswith("1 Main St")


async def test_opt_out_word_flags_contact_and_send_needs_confirmation(env: Env) -> None:
    alice = await env.login("alice")
    await env.text_in("hi")
    case = (await _answer(env, alice))["case"]
    await env.text_in("STOP")
    status, fresh = await alice.get(f"/api/cases/{case['id']}")
    assert fresh["case"]["opted_out"] is True
    path = f"/api/cases/{case['id']}/messages"
    status, refused = await alice.post(path, {"text": "ok"})
    assert status == 409
    assert refused["error"]["code"] == "opted_out"
    assert env.outbound.wakes == 0
    status, _ = await alice.post(path, {"text": "ok", "override_opt_out": True})
    assert status == 201


async def test_unanswered_request_becomes_overdue(env: Env) -> None:
    boss = await env.login("boss", "supervisor")
    await env.text_in("anyone?")
    env.clock.advance(env.config.routing.overdue_after_s + 1)
    await env.workflow.router.tick()
    [request] = (await boss.get("/api/requests"))[1]["requests"]
    assert request["overdue"] is True


async def test_offline_agent_with_open_cases_is_shown_and_texts_are_kept(env: Env) -> None:
    alice = await env.login("alice")
    boss = await env.login("boss", "supervisor")
    await env.text_in("hi")
    case = (await _answer(env, alice))["case"]
    await env.text_in("still there?")  # alice has no websocket open: offline
    agents = {a["username"]: a for a in (await boss.get("/api/agents"))[1]["agents"]}
    assert agents["alice"]["online"] is False
    assert agents["alice"]["open_cases"] == 1
    history = (await boss.get(f"/api/cases/{case['id']}/messages"))[1]["messages"]
    assert [m["text"] for m in history] == ["hi", "still there?"]
    status, moved = await boss.post(f"/api/cases/{case['id']}/reassign", {"agent": "boss"})
    assert status == 200
    assert moved["case"]["agent"] == "boss"


async def test_send_answer_close_and_reassign_are_audited(env: Env) -> None:
    alice = await env.login("alice")
    boss = await env.login("boss", "supervisor")
    await env.text_in("hi")
    case = (await _answer(env, alice))["case"]
    await alice.post(f"/api/cases/{case['id']}/messages", {"text": "hello"})
    await boss.post(f"/api/cases/{case['id']}/reassign", {"agent": "alice"})
    await alice.post(f"/api/cases/{case['id']}/close")
    entries = await env.store.accounts.audit_log(limit=100)
    actions = {(e.action, e.user_id) for e in entries}
    assert {("request.answer", alice.id), ("message.send", alice.id),
            ("case.reassign", boss.id), ("case.close", alice.id)} <= actions


async def test_an_admin_adding_a_user_writes_one_audit_row_naming_the_admin(env: Env) -> None:
    root = await env.login("root", "admin")
    status, body = await root.post("/api/users", {"username": "carol", "role": "agent"})
    assert status == 201, body
    target = f"user:{body['user']['id']}"
    status, log = await root.get("/api/audit")
    assert status == 200
    rows = [e for e in log["entries"] if e["target"] == target]
    assert [(e["action"], e["user_id"]) for e in rows] == [("user.create", root.id)]


async def test_history_spans_cases_with_ages_and_delivery_state(env: Env) -> None:
    alice = await env.login("alice")
    await env.text_in("first case")
    case = (await _answer(env, alice))["case"]
    env.clock.advance(60)
    await alice.post(f"/api/cases/{case['id']}/messages", {"text": "reply"})
    await alice.post(f"/api/cases/{case['id']}/close")
    await env.text_in("second case")
    [request] = (await alice.get("/api/requests"))[1]["requests"]
    new = (await alice.post(f"/api/requests/{request['id']}/answer", {"action": "new"}))[1]
    history = (await alice.get(f"/api/cases/{new['case']['id']}/messages"))[1]
    texts = [m["text"] for m in history["messages"]]
    assert texts == ["first case", "reply", "second case"]
    reply = history["messages"][1]
    assert reply["since_start_s"] >= 60
    assert reply["delivery"] == {"queued": 1, "sent": 0, "delivered": 0, "failed": 0, "total": 1}
    page = (await alice.get(f"/api/cases/{new['case']['id']}/messages",
                            params={"limit": "1"}))[1]
    assert [m["text"] for m in page["messages"]] == ["second case"]
    assert page["has_more"] is True
    older = (await alice.get(f"/api/cases/{new['case']['id']}/messages",
                             params={"limit": "5", "before": str(page["next_before"])}))[1]
    assert [m["text"] for m in older["messages"]] == ["first case", "reply"]
