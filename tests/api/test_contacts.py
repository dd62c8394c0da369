"""Contacts: a name, notes and tags per number, shown on the next request and the case."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from .conftest import CUSTOMER, Agent, Env
from .desk import answered_case


async def put(agent: Agent, phone: str, body: dict[str, Any]) -> tuple[int, Any]:
    response = await agent.client.put(f"/api/contacts/{quote(phone)}", json=body,
                                      headers={"X-CSRF-Token": agent.csrf})
    return response.status, await response.json()


async def test_a_named_contact_shows_on_the_next_request_and_its_case(env: Env) -> None:
    alice = await env.login("alice")
    case = await answered_case(env, alice)
    assert case["contact_name"] is None
    status, body = await put(alice, "(555) 123-4567", {
        "name": " Ada Lovelace ", "notes": "Prefers texts", "tags": ["vip", "VIP", "billing"]})
    assert status == 200, body
    contact = body["contact"]
    assert (contact["phone"], contact["name"], contact["tags"]) == (
        CUSTOMER, "Ada Lovelace", ["vip", "billing"])
    assert (await alice.get(f"/api/cases/{case['id']}"))[1]["case"]["contact_name"] == (
        "Ada Lovelace")
    await alice.post(f"/api/cases/{case['id']}/close")
    await env.text_in("me again")
    [request] = (await alice.get("/api/requests"))[1]["requests"]
    assert request["contact_name"] == "Ada Lovelace"
    status, got = await alice.get(f"/api/contacts/{quote(CUSTOMER)}")
    assert status == 200
    assert got["contact"]["notes"] == "Prefers texts"
    entries = await env.store.accounts.audit_log(limit=100)
    assert "contact.update" in [e.action for e in entries]


async def test_the_address_is_kept_only_when_given(env: Env) -> None:
    alice = await env.login("alice")
    status, body = await put(alice, CUSTOMER, {"name": "Ada", "address": "1 Main St"})
    assert status == 200
    assert body["contact"]["address"] == "1 Main St"
    status, body = await put(alice, CUSTOMER, {"name": "Ada L."})
    assert status == 200
    assert (body["contact"]["name"], body["contact"]["address"]) == ("Ada L.", "1 Main St")
    status, body = await put(alice, CUSTOMER, {"name": "Ada L.", "address": None})
    assert status == 200
    assert body["contact"]["address"] is None


async def test_unknown_and_invalid_numbers(env: Env) -> None:
    alice = await env.login("alice")
    assert (await alice.get("/api/contacts/%2B15559999999"))[0] == 404
    status, body = await put(alice, "12", {"name": "x"})
    assert status == 400
    assert body["error"]["code"] == "invalid_phone"
    status, body = await put(alice, CUSTOMER, {"tags": ["  "]})
    assert status == 400
