"""The pipeline's guarantees, proven on a whole daemon driving a simulated modem over a pty."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select

from gateway.config import parse_config
from gateway.daemon import Daemon
from gateway.sms import encode_submit
from gateway.store import Message, Store
from gateway.store.messages import load_messages
from gateway.store.models import MessageRow
from tests.pipeline.conftest import CUSTOMER, LINE_NUMBER, daemon_config, eventually

LONG_TEXT = ("Please send help to the corner of Fifth and Main, the door is blue. " * 7)[:400]


async def messages(store: Store) -> list[Message]:
    async with store.db.read() as session:
        ids = list(await session.scalars(select(MessageRow.id).order_by(MessageRow.id)))
        return list((await load_messages(session, ids)).values())


def store_of(daemon: Daemon) -> Store:
    assert daemon.store is not None
    return daemon.store


async def queue_reply(daemon: Daemon, text: str, *, status_report: bool = True) -> Message:
    store = store_of(daemon)
    encoded = encode_submit(text, CUSTOMER, status_report=status_report, ref=7)
    result = await store.outbound.queue_outbound(
        line_id=daemon.line_ids["demo"], to=CUSTOMER, text=text, encoded=encoded
    )
    daemon.wake_outbound()
    return result.message


async def test_inbound_text_is_stored_once_then_deleted_from_the_modem(daemon: Daemon) -> None:
    assert daemon.sim is not None
    daemon.sim.network.handset(CUSTOMER).send(LINE_NUMBER, "Is anyone there?")
    stored = await eventually(
        lambda: messages(store_of(daemon)), lambda ms: any(m.status == "received" for m in ms)
    )
    assert [(m.direction, m.phone, m.text) for m in stored] == [
        ("in", CUSTOMER, "Is anyone there?")
    ]
    modem = daemon.sim.modems["demo"]
    await eventually(lambda: _async(modem.storage["SM"].used), lambda used: used == 0)


async def test_multipart_arriving_reordered_and_duplicated_is_one_whole_message(
    daemon: Daemon,
) -> None:
    assert daemon.sim is not None
    network = daemon.sim.network
    network.apply_fault("reorder", {})
    network.apply_fault("duplicate", {"times": 2})
    network.handset(CUSTOMER).send(LINE_NUMBER, LONG_TEXT + " 😀")
    stored = await eventually(
        lambda: messages(store_of(daemon)), lambda ms: any(m.status == "received" for m in ms)
    )
    assert len(stored) == 1
    assert stored[0].text == LONG_TEXT + " 😀"
    assert stored[0].parts_total == len(stored[0].parts) == 7
    assert stored[0].missing_parts == ()


async def test_agent_reply_of_400_characters_reaches_the_handset_whole_and_is_delivered(
    daemon: Daemon,
) -> None:
    assert daemon.sim is not None
    handset = daemon.sim.network.handset(CUSTOMER)
    queued = await queue_reply(daemon, LONG_TEXT)
    assert queued.status == "queued"
    inbox = await handset.wait_for_inbox(1, timeout_s=10)
    assert [(m.from_, m.text, m.parts) for m in inbox] == [(LINE_NUMBER, LONG_TEXT, 3)]
    final = await eventually(
        lambda: messages(store_of(daemon)), lambda ms: ms[0].status == "delivered"
    )
    assert {p.status for p in final[0].parts} == {"delivered"}
    assert all(p.tp_mr is not None for p in final[0].parts)


async def test_final_cms_error_fails_the_part_and_nothing_is_resent(daemon: Daemon) -> None:
    assert daemon.sim is not None
    await _fault(daemon, "send_failure", {"cms": 304, "times": 1})
    await queue_reply(daemon, "Short reply", status_report=False)
    final = await eventually(
        lambda: messages(store_of(daemon)), lambda ms: ms[0].status == "failed"
    )
    assert final[0].parts[0].last_error == "the modem found the message malformed (+CMS ERROR: 304)"
    await asyncio.sleep(0.5)
    assert daemon.sim.network.handset(CUSTOMER).inbox == []


async def test_retryable_cms_error_is_retried_and_sent_once(daemon: Daemon) -> None:
    assert daemon.sim is not None
    await _fault(daemon, "send_failure", {"cms": 500, "times": 2})
    await queue_reply(daemon, "Help is on the way", status_report=False)
    final = await eventually(
        lambda: messages(store_of(daemon)), lambda ms: ms[0].status == "sent", timeout_s=15
    )
    assert final[0].parts[0].attempts == 3
    inbox = await daemon.sim.network.handset(CUSTOMER).wait_for_inbox(1)
    await asyncio.sleep(0.3)
    assert [m.text for m in daemon.sim.network.handset(CUSTOMER).inbox] == [
        "Help is on the way"
    ]
    assert len(inbox) == 1


async def test_part_left_sending_at_a_crash_is_marked_unknown_and_not_resent(
    tmp_path: Path,
) -> None:
    config = parse_config(daemon_config(tmp_path), base_dir=tmp_path)
    config.data_dir.mkdir(parents=True)
    store = await Store.open(config.database_url)
    try:
        line = await store.lines.ensure("demo", LINE_NUMBER)
        encoded = encode_submit("Are you safe?", CUSTOMER)
        queued = await store.outbound.queue_outbound(
            line_id=line.id, to=CUSTOMER, text="Are you safe?", encoded=encoded
        )
        await store.outbound.mark_part_sending(queued.message.parts[0].id)
    finally:
        await store.close()
    daemon = Daemon(config)
    await daemon.start()
    try:
        await daemon.supervisors["demo"].wait_for_state(lambda s: s.can_send, timeout_s=10)
        await asyncio.sleep(0.5)
        stored = await messages(store_of(daemon))
        assert stored[0].parts[0].status == "unknown"
        assert stored[0].status == "unknown"
        assert daemon.sim is not None
        assert daemon.sim.network.handset(CUSTOMER).inbox == []
    finally:
        await daemon.stop()


async def test_message_left_on_the_modem_while_down_is_read_at_start(tmp_path: Path) -> None:
    """What arrived while the daemon was down is swept at start-up, exactly once."""
    config = parse_config(daemon_config(tmp_path), base_dir=tmp_path)
    first = Daemon(config)
    await first.start()
    try:
        await first.supervisors["demo"].wait_for_state(lambda s: s.can_send, timeout_s=10)
        assert first.sim is not None
        first.sim.network.handset(CUSTOMER).send(LINE_NUMBER, "first")
        await eventually(lambda: messages(store_of(first)), lambda ms: len(ms) == 1)
    finally:
        await first.stop()
    second = Daemon(config)
    await second.start()
    try:
        await second.supervisors["demo"].wait_for_state(lambda s: s.can_send, timeout_s=10)
        stored = await messages(store_of(second))
        assert [m.text for m in stored] == ["first"]
    finally:
        await second.stop()


async def _fault(daemon: Daemon, kind: str, params: dict[str, object]) -> None:
    from gateway.sim.faults import apply_fault

    assert daemon.sim is not None
    apply_fault(daemon.sim.modems["demo"], kind, params)


async def _async(value: int) -> int:
    return value


async def test_a_part_of_unknown_fate_that_a_delivery_report_confirms_becomes_delivered(
    tmp_path: Path,
) -> None:
    """The daemon died between writing the PDU and committing its TP-MR; the network sent it
    and the handset's delivery report now says so: the report wins over our doubt."""
    from datetime import UTC, datetime

    from gateway.sms import encode_status_report

    config = parse_config(daemon_config(tmp_path), base_dir=tmp_path)
    config.data_dir.mkdir(parents=True)
    store = await Store.open(config.database_url)
    try:
        line = await store.lines.ensure("demo", LINE_NUMBER)
        encoded = encode_submit("Are you safe?", CUSTOMER, status_report=True)
        queued = await store.outbound.queue_outbound(
            line_id=line.id, to=CUSTOMER, text="Are you safe?", encoded=encoded
        )
        await store.outbound.mark_part_sending(queued.message.parts[0].id)
    finally:
        await store.close()
    daemon = Daemon(config)
    await daemon.start()
    try:
        await daemon.supervisors["demo"].wait_for_state(lambda s: s.can_send, timeout_s=10)
        await eventually(lambda: messages(store_of(daemon)),
                         lambda ms: ms[0].parts[0].status == "unknown")
        assert daemon.sim is not None
        now = datetime.now(UTC).replace(microsecond=0)
        report = encode_status_report(mr=42, recipient=CUSTOMER, scts=now, discharge_time=now,
                                      status=0x00)
        assert daemon.sim.modems["demo"].deliver_status_report(report)
        stored = await eventually(lambda: messages(store_of(daemon)),
                                  lambda ms: ms[0].parts[0].status != "unknown")
        assert stored[0].parts[0].status == "delivered"
        assert stored[0].status == "delivered"
    finally:
        await daemon.stop()
