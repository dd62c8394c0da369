"""A handset texts the short code; the agent is rung, answers, and replies over SMPP."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import select

from gateway.config import parse_config
from gateway.daemon import Daemon
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
