"""Retention: message text older than retention.message_days is removed (counts and case
metadata stay), one audit entry per run; a number can be forgotten entirely."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.service.errors import ConflictError

from .conftest import CUSTOMER, PASSWORD, Agent, Env
from .desk import answered_case


async def login_again(env: Env, agent: Agent) -> Agent:
    client = env.session()
    response = await client.post("/api/login", json={"username": agent.name,
                                                     "password": PASSWORD})
    assert response.status == 200
    return Agent(client, (await response.json())["csrf_token"], agent.id, agent.name)


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {"retention": {"message_days": 30}}


async def test_old_text_is_removed_and_the_rest_kept(env: Env) -> None:
    alice = await env.login("alice")
    case = await answered_case(env, alice, "my card number is 1234")
    await alice.post(f"/api/cases/{case['id']}/messages", {"text": "Thanks, noted"})
    env.clock.advance(31 * 86400)
    await env.text_in("a month later")
    assert await env.workflow.retention.run_once() == 1
    alice = await login_again(env, alice)  # a month later the session has expired
    history = (await alice.get(f"/api/cases/{case['id']}/messages"))[1]["messages"]
    # A reply still queued (no modem here) may yet be sent: it keeps its text.
    assert [(m["direction"], m["text"], m["placeholder"]) for m in history] == [
        ("in", None, "text removed by the retention policy"),
        ("out", "Thanks, noted", None),
        ("in", "a month later", None),
    ]
    assert history[0]["status"] == "received"  # states and times stay
    assert await env.workflow.retention.run_once() == 0  # nothing twice
    runs = [e for e in await env.store.accounts.audit_log(limit=50)
            if e.action == "retention.run"]
    assert [r.details["messages"] for r in runs] == [0, 1]
    assert runs[1].details["events"] >= 1
    logged = [e for e in await env.store.events.since(0, 1000) if e.type.startswith("message.")]
    texts = {e.data["id"]: e.data.get("text") for e in logged}
    assert texts[history[0]["id"]] is None  # the event log forgets the old text too
    assert texts[history[2]["id"]] == "a month later"
    case_now = (await alice.get(f"/api/cases/{case['id']}"))[1]["case"]
    assert case_now["phone"] == CUSTOMER


async def test_forget_erases_a_number_but_not_while_a_case_is_open(env: Env) -> None:
    alice = await env.login("alice")
    case = await answered_case(env, alice, "please forget me")
    await alice.post(f"/api/cases/{case['id']}/notes", {"text": "asked to be forgotten"})
    with pytest.raises(ConflictError):
        await env.workflow.retention.forget(CUSTOMER, "dpo")
    await alice.post(f"/api/cases/{case['id']}/close")
    forgotten = await env.workflow.retention.forget("(555) 123-4567", "dpo")
    assert (forgotten.messages, forgotten.notes, forgotten.cases) == (1, 1, 1)
    assert (await alice.get(f"/api/cases/{case['id']}"))[0] == 404
    assert (await alice.get("/api/search", params={"q": "forget"}))[1]["results"] == []
    [entry] = [e for e in await env.store.accounts.audit_log(limit=50)
               if e.action == "contact.forget"]
    assert entry.details["by"] == "dpo"
    assert CUSTOMER not in str(entry.details)
    assert not [e for e in await env.store.events.since(0, 1000) if CUSTOMER in str(e.data)]


async def test_an_admin_erases_a_number_through_the_api_once_its_case_is_closed(
    env: Env,
) -> None:
    alice = await env.login("alice")
    root = await env.login("root", "admin")
    case = await answered_case(env, alice, "please forget me")
    path = "/api/contacts/(555)%20123-4567/forget"
    status, body = await alice.post(path)
    assert (status, body["error"]["code"]) == (403, "forbidden")
    status, body = await root.post(path)
    assert status == 409, body
    await alice.post(f"/api/cases/{case['id']}/close")
    status, body = await root.post(path)
    assert status == 200, body
    assert body["forgotten"] == {"messages": 1, "notes": 0, "cases": 1}
    assert (await root.post(path))[0] == 404  # nothing is held any more
    [entry] = [e for e in await env.store.accounts.audit_log(limit=50)
               if e.action == "contact.forget"]
    assert (entry.user_id, entry.details["by"]) == (root.id, "root")
    assert CUSTOMER not in str(entry.details)
