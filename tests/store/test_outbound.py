"""Outbound messages: queued before any AT command, tracked part by part, never sent twice."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gateway.config import SendingConfig
from gateway.store import InvalidPhoneNumberError, InvalidTransitionError, Store

from .conftest import T0
from .helpers import CUSTOMER, encoded

WINDOW_S = SendingConfig().status_report_window_s  # the one default, config.yaml's


async def test_queue_commits_message_and_parts_as_queued(store: Store, line_id: int) -> None:
    result = await store.outbound.queue_outbound(
        line_id=line_id, to="(555) 123-4567", text="Hello there, how can we help?",
        encoded=encoded("Hello there, ", "how can we help?"), now=T0,
    )
    assert result.created
    message = result.message
    assert (message.direction, message.status, message.phone) == ("out", "queued", CUSTOMER)
    assert [(p.seq, p.total, p.status, p.attempts) for p in message.parts] == [
        (1, 2, "queued", 0), (2, 2, "queued", 0),
    ]
    assert [e.type for e in result.events] == ["message.created"]
    # Durable: another reader sees it before anything is sent.
    assert (await store.messages.get(message.id)).parts == message.parts
    due = await store.outbound.due_parts(line_id, now=T0)
    assert [p.id for p in due] == [p.id for p in message.parts]
    assert await store.outbound.queue_depth(line_id) == 2


async def test_same_client_id_returns_the_existing_message(store: Store, line_id: int) -> None:
    first = await store.outbound.queue_outbound(
        line_id=line_id, to=CUSTOMER, text="once", encoded=encoded("once"), client_id="c-1",
    )
    second = await store.outbound.queue_outbound(
        line_id=line_id, to=CUSTOMER, text="once", encoded=encoded("once"), client_id="c-1",
    )
    assert not second.created
    assert second.events == ()
    assert second.message.id == first.message.id
    assert len(await store.outbound.due_parts(line_id)) == 1


async def test_invalid_recipient_is_refused_before_anything_is_stored(
    store: Store, line_id: int
) -> None:
    with pytest.raises(InvalidPhoneNumberError, match="too short"):
        await store.outbound.queue_outbound(
            line_id=line_id, to="12", text="x", encoded=encoded("x")
        )
    assert await store.outbound.due_parts(line_id) == []


async def test_part_moves_queued_sending_sent_delivered(store: Store, line_id: int) -> None:
    queued = await store.outbound.queue_outbound(
        line_id=line_id, to=CUSTOMER, text="ab", encoded=encoded("a", "b"), now=T0
    )
    first, second = queued.message.parts
    sending = await store.outbound.mark_part_sending(first.id, now=T0)
    assert (sending.part.status, sending.part.attempts) == ("sending", 1)
    assert sending.message.status == "sending"
    assert sending.event.type == "message.status"
    assert sending.event.data["status"] == "sending"
    sent = await store.outbound.mark_part_sent(first.id, tp_mr=17, now=T0)
    assert (sent.part.status, sent.part.tp_mr, sent.message.sent_at) == ("sent", 17, None)
    await store.outbound.mark_part_sending(second.id, now=T0)
    both = await store.outbound.mark_part_sent(second.id, tp_mr=18, now=T0 + timedelta(seconds=1))
    assert both.message.status == "sent"
    assert both.message.sent_at == T0 + timedelta(seconds=1)

    report = await store.outbound.apply_status_report(
        line_id, 17, CUSTOMER, "delivered", now=T0 + timedelta(seconds=5), window_s=WINDOW_S
    )
    assert report is not None
    assert (report.part.id, report.part.status, report.message.status) == (
        first.id, "delivered", "sent",
    )
    last = await store.outbound.apply_status_report(
        line_id, 18, "5551234567", "delivered", now=T0 + timedelta(seconds=6), window_s=WINDOW_S
    )
    assert last is not None
    assert last.message.status == "delivered"
    assert last.message.delivered_at == T0 + timedelta(seconds=6)
    assert last.event.data["parts"] == {"delivered": 2}


async def test_a_part_cannot_skip_or_repeat_a_state(store: Store, line_id: int) -> None:
    queued = await store.outbound.queue_outbound(
        line_id=line_id, to=CUSTOMER, text="a", encoded=encoded("a")
    )
    part = queued.message.parts[0]
    with pytest.raises(InvalidTransitionError):
        await store.outbound.mark_part_sent(part.id, tp_mr=1)
    await store.outbound.mark_part_sending(part.id)
    with pytest.raises(InvalidTransitionError, match="sending"):
        await store.outbound.mark_part_sending(part.id)


async def test_status_report_matches_line_mr_recipient_and_window(
    store: Store, line_id: int
) -> None:
    other_line = (await store.lines.ensure("line-2")).id

    async def sent(to: str, mr: int, line: int, at: timedelta) -> int:
        queued = await store.outbound.queue_outbound(
            line_id=line, to=to, text="t", encoded=encoded("t"), now=T0 + at
        )
        part = queued.message.parts[0]
        await store.outbound.mark_part_sending(part.id, now=T0 + at)
        await store.outbound.mark_part_sent(part.id, tp_mr=mr, now=T0 + at)
        return part.id

    old = await sent(CUSTOMER, 5, line_id, timedelta(0))
    newer = await sent(CUSTOMER, 5, line_id, timedelta(hours=1))
    await sent("+15557654321", 6, line_id, timedelta(hours=1))
    await sent(CUSTOMER, 6, other_line, timedelta(hours=1))
    later = T0 + timedelta(hours=2)

    # A report names the newest matching part; a foreign or stale report matches nothing.
    match = await store.outbound.apply_status_report(line_id, 5, CUSTOMER, "failed", now=later,
                                                     window_s=WINDOW_S)
    assert match is not None
    assert match.part.id == newer
    assert await store.outbound.apply_status_report(line_id, 6, CUSTOMER, "delivered",
                                                    now=later, window_s=WINDOW_S) is None
    assert await store.outbound.apply_status_report(
        line_id, 5, CUSTOMER, "delivered", now=later, window_s=600
    ) is None
    expired = await store.outbound.apply_status_report(
        line_id, 5, CUSTOMER, "expired", now=later, error="validity period expired",
        window_s=WINDOW_S,
    )
    assert expired is not None
    assert (expired.part.id, expired.part.status, expired.message.status) == (
        old, "expired", "expired",
    )
    assert expired.part.last_error == "validity period expired"


async def test_part_left_sending_at_crash_is_marked_unknown_and_not_resent(
    store_url: str,
) -> None:
    async with await Store.open(store_url) as store:
        line = await store.lines.ensure("line-1")
        queued = await store.outbound.queue_outbound(
            line_id=line.id, to=CUSTOMER, text="ab", encoded=encoded("a", "b"), now=T0
        )
        crashed, waiting = queued.message.parts
        await store.outbound.mark_part_sending(crashed.id, now=T0)
    async with await Store.open(store_url) as store:
        updates = await store.outbound.mark_sending_as_unknown_on_start(now=T0)
        assert [(u.part.id, u.part.status) for u in updates] == [(crashed.id, "unknown")]
        assert updates[0].message.status == "unknown"
        assert updates[0].event.data["status"] == "unknown"
        assert [p.id for p in await store.outbound.due_parts(line.id)] == [waiting.id]
        assert await store.outbound.mark_sending_as_unknown_on_start() == []
        again = await store.outbound.requeue_part(crashed.id)
        assert again.part.status == "queued"


async def test_retry_waits_for_its_time_and_counts_attempts(store: Store, line_id: int) -> None:
    queued = await store.outbound.queue_outbound(
        line_id=line_id, to=CUSTOMER, text="a", encoded=encoded("a"), now=T0
    )
    part = queued.message.parts[0]
    await store.outbound.mark_part_sending(part.id, now=T0)
    retry_at = T0 + timedelta(seconds=30)
    retried = await store.outbound.mark_part_retry(part.id, "+CMS ERROR: 500", retry_at, now=T0)
    assert (retried.part.status, retried.part.last_error) == ("queued", "+CMS ERROR: 500")
    assert await store.outbound.due_parts(line_id, now=T0 + timedelta(seconds=29)) == []
    assert await store.outbound.next_retry_at(line_id) == retry_at
    assert len(await store.outbound.due_parts(line_id, now=retry_at)) == 1
    second = await store.outbound.mark_part_sending(part.id, now=retry_at)
    assert second.part.attempts == 2
    failed = await store.outbound.mark_part_failed(part.id, "+CMS ERROR: 304", now=retry_at)
    assert (failed.part.status, failed.message.status) == ("failed", "failed")
    assert failed.message.error == "+CMS ERROR: 304"
