"""A handset texts the short code; the agent is rung, answers, and replies over SMPP."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import select

from gateway.config import parse_config
from gateway.daemon import Daemon
from gateway.sms import AddressType
from gateway.store.models import LineRow, MessageRow
from tests.e2e.conftest import free_port
from tests.pipeline.conftest import LINE_NUMBER, daemon_config, eventually
from tests.smpp.conftest import LINE, SHORT_CODE, SmppEnv

T = TypeVar("T")

CUSTOMER = "+15557770001"
LONG_IN = ("A long question that needs several parts to reach the short code. " * 5)[:300]
UNICODE_IN = "Привет 👋 can you help? 🙂"
REPLY = ("Thanks for writing to us: here is a full answer that needs three parts. " * 6)[:400]


async def _requests(env: SmppEnv) -> list[dict[str, Any]]:
    requests: list[dict[str, Any]] = (await env.agent.call("GET", "/api/requests"))["requests"]
    return requests


async def _case_messages(env: SmppEnv, case_id: int) -> list[dict[str, Any]]:
    body = await env.agent.call("GET", f"/api/cases/{case_id}/messages")
    messages: list[dict[str, Any]] = body["messages"]
    return messages


async def test_line_is_listed_ready_while_bound(env: SmppEnv) -> None:
    line = await env.line()
    assert line["state"] == "ready"
    assert line["number"] == SHORT_CODE
    assert line["can_send"] is True
    status = await env.smsc()
    assert status["bound"] == [{"system_id": "gateway", "transmit": True, "receive": True}]


async def test_texts_by_udh_sar_and_ucs2_reach_the_agent_and_the_reply_arrives_whole(
    env: SmppEnv,
) -> None:
    await env.text(CUSTOMER, "Hello short code")
    [request] = await eventually(lambda: _requests(env), lambda r: len(r) == 1)
    assert request["call_id"] == f"SMS{CUSTOMER}"
    assert request["line"]["name"] == LINE
    assert request["line"]["number"] == SHORT_CODE
    answered = await env.agent.call("POST", f"/api/requests/{request['id']}/answer",
                                    {"action": "new"})
    case_id = answered["case"]["id"]

    await env.text(CUSTOMER, LONG_IN)  # concatenated by UDH
    await env.settings(mo_concat="sar")
    await env.text(CUSTOMER, LONG_IN.upper())  # by the sar_* TLVs
    await env.settings(mo_concat="payload")
    await env.text(CUSTOMER, UNICODE_IN)  # UCS2 in message_payload
    messages = await eventually(lambda: _case_messages(env, case_id),
                                lambda m: len(m) == 4 and all(x["status"] == "received"
                                                              for x in m))
    assert [m["text"] for m in messages] == [
        "Hello short code", LONG_IN, LONG_IN.upper(), UNICODE_IN
    ]
    assert messages[3]["encoding"] == "ucs2"

    sent = await env.agent.call("POST", f"/api/cases/{case_id}/messages", {"text": REPLY})
    assert len(sent["message"]["parts"]) == 3
    inbox = await eventually(lambda: env.inbox(CUSTOMER), lambda i: len(i) == 1)
    assert inbox[0]["from"] == SHORT_CODE
    assert inbox[0]["text"] == REPLY
    assert inbox[0]["parts"] == 3
    reply = await eventually(
        lambda: _case_messages(env, case_id),
        lambda m: m[-1]["direction"] == "out" and m[-1]["status"] == "delivered",
    )
    parts = reply[-1]["parts"]
    assert [p["status"] for p in parts] == ["delivered"] * 3
    assert reply[-1]["delivery"]["delivered"] == 3


async def test_demo_short_code_on_a_simulated_smsc_beside_a_simulated_modem(
    tmp_path: Path,
) -> None:
    """What `make run` shows: a modem line and a short-code line, both ready, in one daemon."""
    config = daemon_config(tmp_path, smpp=[{
        "name": "shortcode", "number": SHORT_CODE, "host": "127.0.0.1", "port": free_port(),
        "system_id": "demo", "password": "demo", "simulator": True,
    }])
    daemon = Daemon(parse_config(config, base_dir=tmp_path))
    await daemon.start()
    try:
        assert daemon.sim is not None
        network = daemon.sim.network
        board = daemon.board
        assert board is not None
        await eventually(lambda: _value(board.snapshot()),
                         lambda s: all(s.get(n) and s[n].can_send for n in ("demo", LINE)))
        network.handset(CUSTOMER).send(SHORT_CODE, "to the short code")
        network.handset(CUSTOMER).send(LINE_NUMBER, "to the long number")
        store = daemon.store
        assert store is not None

        async def texts() -> list[tuple[str, str]]:
            async with store.db.read() as session:
                rows = await session.execute(
                    select(LineRow.name, MessageRow.text).join(LineRow).order_by(MessageRow.id)
                )
                return sorted((name, text or "") for name, text in rows)

        assert await eventually(texts, lambda t: len(t) == 2) == [
            ("demo", "to the long number"), (LINE, "to the short code")
        ]
    finally:
        await daemon.stop()


async def _value(value: T) -> T:
    return value


@pytest.mark.parametrize(
    ("sender", "kind"),
    [("5557654321", AddressType.NATIONAL), ("4444", AddressType.UNKNOWN),
     ("+15557770002", AddressType.INTERNATIONAL)],
    ids=["national", "short-code", "international"],
)
async def test_a_reply_goes_to_the_senders_address_as_the_smsc_gave_it(
    env: SmppEnv, sender: str, kind: AddressType
) -> None:
    await env.text(sender, "Hello from an odd number")
    [request] = await eventually(lambda: _requests(env), lambda r: len(r) == 1)
    answered = await env.agent.call("POST", f"/api/requests/{request['id']}/answer",
                                    {"action": "new"})
    await env.agent.call("POST", f"/api/cases/{answered['case']['id']}/messages",
                         {"text": "We have your text"})
    inbox = await eventually(lambda: env.inbox(sender), lambda i: len(i) == 1)
    assert inbox[0]["text"] == "We have your text"
    assert env.sim.smpp is not None
    # submit_sm carried the type of number the deliver_sm's source_addr_ton gave.
    assert [(s.destination.number, s.destination.type)
            for s in env.sim.smpp.submitted.values()] == [(sender, kind)]


async def test_a_sender_name_on_the_short_code_rings_but_cannot_be_replied_to(
    env: SmppEnv,
) -> None:
    await env.text("ACME", "Your parcel is on its way")
    [request] = await eventually(lambda: _requests(env), lambda r: len(r) == 1)
    answered = await env.agent.call("POST", f"/api/requests/{request['id']}/answer",
                                    {"action": "new"})
    async with env.agent.http.post(
        f"{env.agent.url}/api/cases/{answered['case']['id']}/messages",
        json={"text": "hello"}, headers={"X-CSRF-Token": env.agent.csrf, "Origin": env.agent.url},
    ) as response:
        assert response.status == 409
        assert (await response.json())["error"]["code"] == "cannot_reply"
    assert env.sim.smpp is not None
    assert env.sim.smpp.submitted == {}
