"""Senders as the network gives them, through a whole daemon on the simulated network: a short
code, a national number, a number too short to read and a sender name each raise a request and
open a case; replies go to exactly the address each wrote from, with the same type of number;
the sender name's case says it cannot be replied to; a Send that can never go ends `failed`
with a reason an agent can read. Nothing here answers 500."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from gateway.api.keys import WORKFLOW
from gateway.daemon import Daemon
from gateway.sms import AddressType, Submit, decode_pdu
from tests.pipeline.conftest import LINE_NUMBER, eventually

PASSWORD = "correct horse battery"


class Agent:
    def __init__(self, http: aiohttp.ClientSession, base: str, control: str) -> None:
        self.http, self.base, self.control = http, base, control
        self.csrf = ""

    async def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        headers = {"X-CSRF-Token": self.csrf, "Origin": self.base}
        async with self.http.request(method, self.base + path, json=body,
                                     headers=headers) as response:
            return response.status, await response.json()

    async def sim(self, method: str, path: str, body: Any = None) -> Any:
        async with self.http.request(method, self.control + path, json=body) as response:
            assert response.status == 200, await response.text()
            return await response.json()

    async def request_from(self, address: str) -> dict[str, Any]:
        async def pending() -> list[dict[str, Any]]:
            requests: list[dict[str, Any]] = (await self.call("GET", "/api/requests"))[1][
                "requests"
            ]
            return requests

        requests = await eventually(
            pending, lambda rs: any(r["sender"]["address"] == address for r in rs)
        )
        return next(r for r in requests if r["sender"]["address"] == address)

    async def answer(self, address: str) -> dict[str, Any]:
        request = await self.request_from(address)
        status, body = await self.call("POST", f"/api/requests/{request['id']}/answer",
                                       {"action": "new"})
        assert status == 200, body
        case: dict[str, Any] = body["case"]
        return case


@pytest.fixture
async def agent(daemon: Daemon) -> AsyncIterator[Agent]:
    assert daemon.app is not None
    assert daemon.http_url
    assert daemon.sim_control_url
    await daemon.app[WORKFLOW].accounts.add_user("alice", "agent", PASSWORD)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        agent = Agent(http, daemon.http_url, daemon.sim_control_url)
        status, body = await agent.call("POST", "/api/login",
                                        {"username": "alice", "password": PASSWORD})
        assert status == 200, body
        agent.csrf = body["csrf_token"]
        yield agent


@pytest.mark.parametrize(
    ("identity", "kind", "type_", "key"),
    [
        ("12345", "short_code", "unknown", "12345"),
        ("5557654321", "national", "national", "+15557654321"),
        ("+15550123", "international", "international", "+15550123"),
    ],
)
async def test_a_reply_reaches_the_sender_at_the_address_it_wrote_from(
    daemon: Daemon, agent: Agent, identity: str, kind: str, type_: str, key: str
) -> None:
    await agent.sim("POST", f"/handsets/{identity}/send", {"to": LINE_NUMBER, "text": "help"})
    request = await agent.request_from(identity)
    assert request["phone"] == key
    assert request["sender"] == {"address": identity, "type": type_, "kind": kind,
                                 "can_reply": True, "cannot_reply_reason": None}
    case = await agent.answer(identity)
    assert case["sender"]["can_reply"] is True
    status, body = await agent.call("POST", f"/api/cases/{case['id']}/messages",
                                    {"text": "We are on it", "client_id": f"r-{identity}"})
    assert status == 201, body
    inbox = await eventually(
        lambda: agent.sim("GET", f"/handsets/{identity}/inbox"), lambda box: len(box) == 1
    )
    assert [m["text"] for m in inbox] == ["We are on it"]
    assert daemon.store is not None
    message = await daemon.store.messages.get(body["message"]["id"])
    submit = decode_pdu(message.parts[0].pdu)
    assert isinstance(submit, Submit)
    assert submit.destination.number == identity
    assert submit.destination.type is AddressType(type_)


async def test_a_sender_name_opens_a_case_that_says_it_cannot_be_replied_to(
    daemon: Daemon, agent: Agent
) -> None:
    await agent.sim("POST", "/handsets/ACME/send", {"to": LINE_NUMBER, "text": "Your code: 1"})
    request = await agent.request_from("ACME")
    assert request["sender"]["kind"] == "alphanumeric"
    case = await agent.answer("ACME")
    reason = case["sender"]["cannot_reply_reason"]
    assert case["sender"]["can_reply"] is False
    assert reason == "ACME is a sender name, not a phone number: it cannot receive replies."
    status, body = await agent.call("POST", f"/api/cases/{case['id']}/messages", {"text": "hi"})
    assert status == 409
    assert body["error"] == {"code": "cannot_reply", "message": reason}


async def test_a_send_the_network_refuses_ends_failed_with_a_reason(
    daemon: Daemon, agent: Agent
) -> None:
    customer = "+15557650000"
    await agent.sim("POST", f"/handsets/{customer}/send", {"to": LINE_NUMBER, "text": "hi"})
    case = await agent.answer(customer)
    await agent.sim("POST", "/network/faults", {"kind": "unassigned", "number": customer})
    status, body = await agent.call("POST", f"/api/cases/{case['id']}/messages",
                                    {"text": "Hello?", "client_id": "never-goes"})
    assert status == 201, body

    async def history() -> list[dict[str, Any]]:
        page = (await agent.call("GET", f"/api/cases/{case['id']}/messages"))[1]
        messages: list[dict[str, Any]] = page["messages"]
        return messages

    messages = await eventually(history, lambda ms: ms[-1]["status"] == "failed")
    sent = messages[-1]
    assert sent["text"] == "Hello?"
    assert sent["sent_by"] == "alice"
    assert sent["parts"][0]["error"] == (
        "the network says this number is not in use (+CMS ERROR: 1)"
    )


@pytest.mark.parametrize("typed", ["555-765-4321", "(555) 765 4321", "12345"])
async def test_an_agent_chat_stores_the_number_it_dials(
    daemon: Daemon, agent: Agent, typed: str
) -> None:
    status, body = await agent.call("POST", "/api/cases", {"phone": typed})
    assert status == 201, body
    case = body["case"]
    dialled = "12345" if typed == "12345" else "+15557654321"
    assert (case["phone"], case["sender"]["address"]) == (dialled, dialled)
    assert case["line"]["name"] == "demo"  # the line a Send will use, shown from the start
    status, body = await agent.call("POST", f"/api/cases/{case['id']}/messages",
                                    {"text": "Hello from us"})
    assert status == 201, body
    inbox = await eventually(
        lambda: agent.sim("GET", f"/handsets/{dialled}/inbox"), lambda box: len(box) == 1
    )
    assert inbox[0]["text"] == "Hello from us"
    assert daemon.store is not None
    message = await daemon.store.messages.get(body["message"]["id"])
    submit = decode_pdu(message.parts[0].pdu)
    assert isinstance(submit, Submit)
    assert (message.phone, submit.destination.number) == (dialled, dialled)
