"""Every SMSC fault survived over real TCP with nothing lost and nothing doubled."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from gateway.store.models import MessageRow, PartRow
from tests.pipeline.conftest import eventually
from tests.pipeline.test_poison import reject_pdus_containing
from tests.smpp.conftest import SmppEnv

CUSTOMER = "+15557770002"
REPLY = ("A reply long enough for two parts, so a fault can hit either of them. " * 3)[:200]


async def _inbound_texts(env: SmppEnv) -> list[str]:
    store = env.daemon.store
    assert store is not None
    async with store.db.read() as session:
        rows = await session.scalars(
            select(MessageRow.text).where(MessageRow.direction == "in").order_by(MessageRow.id)
        )
        return [text or "" for text in rows]


async def _outbound_parts(env: SmppEnv) -> list[tuple[int, str]]:
    store = env.daemon.store
    assert store is not None
    async with store.db.read() as session:
        rows = await session.execute(
            select(PartRow.seq, PartRow.status).join(MessageRow)
            .where(MessageRow.direction == "out").order_by(PartRow.id)
        )
        return [(seq, status) for seq, status in rows]


async def _open_case(env: SmppEnv) -> int:
    await env.text(CUSTOMER, "hello")
    requests = await eventually(
        lambda: env.agent.call("GET", "/api/requests"), lambda body: len(body["requests"]) == 1
    )
    request = requests["requests"][0]
    answered = await env.agent.call("POST", f"/api/requests/{request['id']}/answer",
                                    {"action": "new"})
    case_id: int = answered["case"]["id"]
    return case_id


async def _reply(env: SmppEnv, case_id: int, text: str = REPLY) -> dict[str, Any]:
    body: dict[str, Any] = await env.agent.call("POST", f"/api/cases/{case_id}/messages",
                                                {"text": text})
    return body


async def test_throttled_submits_wait_and_go_out_once(env: SmppEnv) -> None:
    case_id = await _open_case(env)
    await env.smsc("throttle", times=3)
    await _reply(env, case_id)
    inbox = await eventually(lambda: env.inbox(CUSTOMER), lambda i: len(i) == 1)
    assert inbox[0]["text"] == REPLY
    parts = await eventually(lambda: _outbound_parts(env),
                             lambda p: [s for _, s in p] == ["delivered", "delivered"])
    assert len(parts) == 2
    assert (await env.smsc())["submitted"] == 2
    assert (await env.line())["state"] == "ready"


async def test_submit_without_response_becomes_unknown_and_is_not_resent(env: SmppEnv) -> None:
    case_id = await _open_case(env)
    await env.smsc("no_response", times=1)
    await _reply(env, case_id)
    # The first part's submit_sm was taken and never answered: unknown, shown, never resent.
    # The pipeline goes on with the next part, as it does on a modem line.
    parts = await eventually(lambda: _outbound_parts(env),
                             lambda p: p == [(1, "unknown"), (2, "delivered")], timeout_s=20)
    assert parts[0] == (1, "unknown")
    assert (await env.smsc())["submitted"] == 1
    message = (await env.agent.call("GET", f"/api/cases/{case_id}/messages"))["messages"][-1]
    assert message["status"] == "unknown"
    assert all(m["text"] != REPLY for m in await env.inbox(CUSTOMER))


async def test_dropped_connection_rebinds_and_texts_sent_meanwhile_arrive_once(
    env: SmppEnv,
) -> None:
    await env.smsc("refuse_bind", times=2)
    await env.smsc("drop")
    await eventually(env.line, lambda line: line["state"] != "ready")
    for n in range(5):
        await env.text(CUSTOMER, f"while down {n}")
    await env.wait_ready(timeout_s=20)
    texts = await eventually(lambda: _inbound_texts(env), lambda t: len(t) >= 5)
    assert sorted(texts) == [f"while down {n}" for n in range(5)]
    status = await env.smsc()
    assert status["waiting_for_ack"] == 0
    assert status["faults"]["refuse_bind_times"] == 0


async def test_lost_acknowledgements_are_redelivered_and_stored_once(env: SmppEnv) -> None:
    await env.smsc("lose_acks", times=3)
    for n in range(3):
        await env.text(CUSTOMER, f"ack lost {n}")
    await eventually(env.smsc, lambda s: s["deliveries"] >= 6 and s["waiting_for_ack"] == 0)
    texts = await _inbound_texts(env)
    assert sorted(texts) == [f"ack lost {n}" for n in range(3)]


async def test_delayed_receipts_leave_parts_sent_until_they_come(env: SmppEnv) -> None:
    case_id = await _open_case(env)
    await env.smsc("delay_receipts", seconds=2.0)
    await _reply(env, case_id, "short reply")
    await eventually(lambda: _outbound_parts(env), lambda p: p == [(1, "sent")])
    await eventually(lambda: _outbound_parts(env), lambda p: p == [(1, "delivered")])
    assert [m["text"] for m in await env.inbox(CUSTOMER)] == ["short reply"]


async def test_store_count_is_exact_after_all_faults(env: SmppEnv) -> None:
    store = env.daemon.store
    assert store is not None
    await env.text(CUSTOMER, "one")
    await eventually(lambda: _inbound_texts(env), lambda t: t == ["one"])
    async with store.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(PartRow)) == 1


async def test_an_smsc_that_stops_answering_is_left_and_bound_again(env: SmppEnv) -> None:
    await env.smsc("no_response", seconds=4)
    await eventually(env.line, lambda line: line["state"] != "ready", timeout_s=15)
    await env.text(CUSTOMER, "sent while the SMSC was silent")
    await env.wait_ready(timeout_s=30)
    texts = await eventually(lambda: _inbound_texts(env), lambda t: len(t) == 1)
    assert texts == ["sent while the SMSC was silent"]


async def test_a_delivery_the_store_refuses_is_quarantined_and_the_line_goes_on(
    env: SmppEnv,
) -> None:
    store = env.daemon.store
    assert store is not None
    # GSM 7-bit text travels one septet per octet: these are the octets of "refuse me".
    await reject_pdus_containing(store, b"refuse me".hex().upper())
    await env.text(CUSTOMER, "refuse me")
    await env.text(CUSTOMER, "a good one")
    await eventually(lambda: _inbound_texts(env), lambda t: t == ["a good one"])
    quarantined = await eventually(store.quarantine.recent, lambda rows: len(rows) == 1,
                                   timeout_s=30)
    assert quarantined[0].pdu.endswith(b"refuse me".hex().upper())
    assert quarantined[0].reason.startswith("SMPP deliver_sm body")
    assert quarantined[0].line_id == env.daemon.line_ids["shortcode"]
    # Acknowledged once quarantined: the SMSC stops delivering it, and the line goes on.
    await eventually(env.smsc, lambda s: s["waiting_for_ack"] == 0, timeout_s=30)
    await env.text(CUSTOMER, "after the poison")
    await eventually(lambda: _inbound_texts(env),
                     lambda t: t == ["a good one", "after the poison"])
    assert await store.quarantine.count() == 1
