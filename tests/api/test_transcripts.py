"""Transcripts: every message and note of a case with time, age, direction, agent and delivery
state, as text, JSON and a real PDF."""

from __future__ import annotations

from .conftest import Env
from .desk import answered_case


async def test_transcript_has_every_message_and_note_in_order(env: Env) -> None:
    alice = await env.login("alice")
    case = await answered_case(env, alice, "Boiler is leaking 💧")
    path = f"/api/cases/{case['id']}"
    env.clock.advance(90)
    await alice.post(f"{path}/messages", {"text": "A plumber is on the way"})
    await alice.post(f"{path}/notes", {"text": "Booked with Acme Plumbing"})
    await alice.post(f"{path}/close")
    status, body = await alice.get(f"{path}/transcript", params={"format": "json"})
    assert status == 200, body
    assert [(e["kind"], e["who"], e["text"]) for e in body["entries"]] == [
        ("in", "customer", "Boiler is leaking 💧"),
        ("out", "alice", "A plumber is on the way"),
        ("note", "alice", "Booked with Acme Plumbing"),
    ]
    assert body["entries"][0]["since_start_s"] == 0
    assert body["entries"][1]["since_start_s"] >= 90
    assert body["entries"][1]["state"] == "queued"
    assert body["entries"][0]["state"] == "received"
    response = await alice.client.get(f"{path}/transcript")
    assert response.status == 200
    assert response.content_type == "text/plain"
    text = await response.text()
    assert f"Transcript of case #{case['id']}" in text
    assert "Internal note by alice" in text
    assert "(+1:30) Sent by alice [queued]" in text
    assert "attachment" in response.headers["Content-Disposition"]


async def test_pdf_transcript_is_a_pdf(env: Env) -> None:
    alice = await env.login("alice")
    case = await answered_case(env, alice, "Hello ünïcödé ✓")
    response = await alice.client.get(f"/api/cases/{case['id']}/transcript",
                                      params={"format": "pdf"})
    assert response.status == 200
    assert response.content_type == "application/pdf"
    body = await response.read()
    assert body.startswith(b"%PDF-")
    assert body.rstrip().endswith(b"%%EOF")
    entries = await env.store.accounts.audit_log(limit=100, target=f"case:{case['id']}")
    assert "case.transcript" in [e.action for e in entries]


async def test_another_agents_transcript_is_refused(env: Env) -> None:
    alice = await env.login("alice")
    bob = await env.login("bob")
    case = await answered_case(env, alice)
    assert (await bob.client.get(f"/api/cases/{case['id']}/transcript")).status == 403
    assert (await alice.client.get(f"/api/cases/{case['id']}/transcript",
                                   params={"format": "doc"})).status == 400
