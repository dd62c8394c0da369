"""Internal notes: stored on the case, shown to its agent and supervisors, never sent."""

from __future__ import annotations

import asyncio

from gateway.bus import BusEvent

from .conftest import Env
from .desk import answered_case, outbound_count


async def test_a_note_is_kept_on_the_case_and_nothing_is_sent(env: Env) -> None:
    alice = await env.login("alice")
    case = await answered_case(env, alice)
    subscription = env.bus.subscribe()
    try:
        status, body = await alice.post(f"/api/cases/{case['id']}/notes",
                                        {"text": "Called back about the bill"})
        assert status == 201, body
        assert body["note"]["author"] == "alice"
        assert body["note"]["text"] == "Called back about the bill"
        async with asyncio.timeout(5):
            event: BusEvent = await subscription.get()
        assert event.type == "case.note"
        assert event.data["case_id"] == case["id"]
    finally:
        subscription.close()
    status, listed = await alice.get(f"/api/cases/{case['id']}/notes")
    assert status == 200
    assert [n["text"] for n in listed["notes"]] == ["Called back about the bill"]
    assert await outbound_count(env) == 0
    assert env.outbound.wakes == 0
    entries = await env.store.accounts.audit_log(limit=100, target=f"case:{case['id']}")
    assert "case.note" in [e.action for e in entries]


async def test_supervisor_reads_notes_but_another_agent_may_not(env: Env) -> None:
    alice = await env.login("alice")
    bob = await env.login("bob")
    sam = await env.login("sam", "supervisor")
    case = await answered_case(env, alice)
    await alice.post(f"/api/cases/{case['id']}/notes", {"text": "first"})
    status, body = await sam.post(f"/api/cases/{case['id']}/notes", {"text": "checked"})
    assert status == 201, body
    status, listed = await sam.get(f"/api/cases/{case['id']}/notes")
    assert [(n["author"], n["text"]) for n in listed["notes"]] == [
        ("alice", "first"), ("sam", "checked")]
    status, body = await bob.get(f"/api/cases/{case['id']}/notes")
    assert status == 403
    status, body = await bob.post(f"/api/cases/{case['id']}/notes", {"text": "x"})
    assert status == 403


async def test_empty_note_and_unknown_case_are_refused(env: Env) -> None:
    alice = await env.login("alice")
    case = await answered_case(env, alice)
    status, body = await alice.post(f"/api/cases/{case['id']}/notes", {"text": "   "})
    assert status == 400
    assert body["error"]["code"] == "invalid_input"
    status, body = await alice.post("/api/cases/9999/notes", {"text": "x"})
    assert status == 404
