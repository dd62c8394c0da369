"""Inbound parts are stored exactly once and reassembled in the database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from gateway.store import InboundPart, Store
from gateway.store.models import MessageRow, PartRow

from .conftest import T0
from .helpers import CUSTOMER, sms


async def _count(store: Store, model: type[MessageRow] | type[PartRow]) -> int:
    async with store.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_single_part_creates_a_shown_message_and_a_created_event(
    store: Store, line_id: int
) -> None:
    result = await store.inbound.record_inbound(line_id, [sms("Help me")], now=T0)
    assert (result.new_parts, result.duplicate_parts) == (1, 0)
    [message] = result.messages
    assert (message.text, message.status, message.direction) == ("Help me", "received", "in")
    assert message.phone == CUSTOMER
    assert message.line_id == line_id
    assert message.scts == T0
    assert message.received_at == T0
    [event] = result.events
    assert event.type == "message.created"
    assert event.data["id"] == message.id
    assert await store.events.since(0) == [event]


async def test_reading_the_same_pdu_again_stores_nothing_new(store: Store, line_id: int) -> None:
    part = sms("once")
    await store.inbound.record_inbound(line_id, [part], now=T0)
    again = await store.inbound.record_inbound(line_id, [part, part], now=T0 + timedelta(seconds=5))
    assert (again.new_parts, again.duplicate_parts, again.events) == (0, 2, ())
    assert await _count(store, MessageRow) == 1
    assert await _count(store, PartRow) == 1
    assert len(await store.events.since(0)) == 1


async def test_same_pdu_on_another_line_is_another_message(store: Store, line_id: int) -> None:
    other = (await store.lines.ensure("line-2", "+15550000002")).id
    await store.inbound.record_inbound(line_id, [sms("hi")], now=T0)
    result = await store.inbound.record_inbound(other, [sms("hi")], now=T0)
    assert result.new_parts == 1
    assert await _count(store, MessageRow) == 2


async def test_parts_in_any_order_with_duplicates_make_one_message(
    store: Store, line_id: int
) -> None:
    p1, p2, p3 = (sms(t, ref=7, seq=i, total=3) for i, t in enumerate(("Aa", "Bb", "Cc"), 1))
    first = await store.inbound.record_inbound(line_id, [p3], now=T0)
    assert first.events == ()
    assert first.messages[0].status == "receiving"
    second = await store.inbound.record_inbound(line_id, [p1, p1], now=T0)
    assert (second.new_parts, second.duplicate_parts, second.events) == (1, 1, ())
    third = await store.inbound.record_inbound(line_id, [p3, p2], now=T0)
    [message] = third.messages
    assert message.id == first.messages[0].id
    assert (message.text, message.status, message.missing_parts) == ("AaBbCc", "received", ())
    assert [p.seq for p in message.parts] == [1, 2, 3]
    assert [e.type for e in third.events] == ["message.created"]
    assert await _count(store, MessageRow) == 1


async def test_8_and_16_bit_references_with_the_same_value_do_not_mix(
    store: Store, line_id: int
) -> None:
    parts = [
        sms("a1", ref=5, seq=1, total=2, bits=8),
        sms("b1", ref=5, seq=1, total=2, bits=16),
        sms("b2", ref=5, seq=2, total=2, bits=16),
        sms("a2", ref=5, seq=2, total=2, bits=8),
    ]
    result = await store.inbound.record_inbound(line_id, parts, now=T0)
    assert sorted(m.text or "" for m in result.messages) == ["a1a2", "b1b2"]


async def test_a_reference_reused_after_completion_starts_a_new_message(
    store: Store, line_id: int
) -> None:
    later = T0 + timedelta(minutes=5)
    await store.inbound.record_inbound(
        line_id, [sms("x1", ref=9, seq=1, total=2), sms("x2", ref=9, seq=2, total=2)], now=T0
    )
    result = await store.inbound.record_inbound(
        line_id, [sms("y1", ref=9, seq=1, total=2, scts=later)], now=later
    )
    assert result.messages[0].status == "receiving"
    assert await _count(store, MessageRow) == 2


async def test_parts_from_different_senders_never_mix(store: Store, line_id: int) -> None:
    result = await store.inbound.record_inbound(
        line_id,
        [sms("a", ref=1, seq=1, total=2), sms("b", ref=1, seq=2, total=2, sender="+15557654321")],
        now=T0,
    )
    assert {m.status for m in result.messages} == {"receiving"}
    assert len(result.messages) == 2


async def test_parts_with_scts_far_apart_do_not_group(store: Store, line_id: int) -> None:
    far = T0 + timedelta(hours=3)
    result = await store.inbound.record_inbound(
        line_id, [sms("a", ref=1, seq=1, total=2), sms("b", ref=1, seq=2, total=2, scts=far)],
        now=far,
    )
    assert len(result.messages) == 2


async def test_ucs2_character_split_across_parts_is_joined_whole(
    store: Store, line_id: int
) -> None:
    data = "Hi 😀 there".encode("utf-16-be")
    cut = 8  # inside the surrogate pair of the emoji
    first = sms(None, encoding="ucs2", user_data=data[:cut], ref=300, bits=16, seq=1, total=2)
    second = sms(None, encoding="ucs2", user_data=data[cut:], ref=300, bits=16, seq=2, total=2)
    result = await store.inbound.record_inbound(line_id, [second, first], now=T0)
    [message] = result.messages
    assert (message.text, message.is_text, message.encoding) == ("Hi 😀 there", True, "ucs2")


async def test_overdue_partial_is_released_with_a_marker_then_completed_in_place(
    store: Store, line_id: int
) -> None:
    texts = ("one ", "two ", "three")
    p1, p2, p3 = (sms(t, ref=11, seq=i, total=3) for i, t in enumerate(texts, 1))
    await store.inbound.record_inbound(line_id, [p1, p3], now=T0)
    assert await store.inbound.next_partial_deadline() == T0 + timedelta(seconds=60)
    early, _ = await store.inbound.release_overdue_partials(now=T0 + timedelta(seconds=59))
    assert early == []

    released, events = await store.inbound.release_overdue_partials(now=T0 + timedelta(seconds=60))
    [message] = released
    assert message.text == "one [part 2 of 3 missing]three"
    assert (message.status, message.missing_parts) == ("received", (2,))
    assert [e.type for e in events] == ["message.created"]
    assert events[0].data["missing_parts"] == [2]
    assert await store.inbound.next_partial_deadline() is None

    late = await store.inbound.record_inbound(line_id, [p2], now=T0 + timedelta(minutes=10))
    [completed] = late.messages
    assert completed.id == message.id
    assert (completed.text, completed.missing_parts) == ("one two three", ())
    assert [e.type for e in late.events] == ["message.updated"]
    assert await _count(store, MessageRow) == 1


async def test_release_timeout_is_configurable(store: Store, line_id: int) -> None:
    await store.inbound.record_inbound(line_id, [sms("a", ref=3, seq=1, total=2)], now=T0)
    released, _ = await store.inbound.release_overdue_partials(
        now=T0 + timedelta(seconds=10), timeout_s=10
    )
    assert released[0].missing_parts == (2,)


async def test_reassembly_survives_a_restart(store_url: str) -> None:
    async with await Store.open(store_url) as store:
        line = await store.lines.ensure("line-1")
        await store.inbound.record_inbound(line.id, [sms("first ", ref=4, seq=1, total=2)], now=T0)
    async with await Store.open(store_url) as store:
        result = await store.inbound.record_inbound(
            line.id, [sms("second", ref=4, seq=2, total=2)], now=T0
        )
        assert result.messages[0].text == "first second"


async def test_undecodable_pdu_is_stored_raw_with_its_reason_once(
    store: Store, line_id: int
) -> None:
    raw = "07911326040000F0040B911326880736F4000?"
    part = InboundPart.undecodable(raw, "truncated user data")
    result = await store.inbound.record_inbound(line_id, [part], now=T0)
    [message] = result.messages
    assert (message.text, message.is_text, message.placeholder_reason) == (
        None, False, "truncated user data",
    )
    assert message.phone is None
    assert message.parts[0].pdu == raw
    assert [e.type for e in result.events] == ["message.created"]
    again = await store.inbound.record_inbound(line_id, [part], now=T0)
    assert again.duplicate_parts == 1


async def test_binary_content_is_shown_as_a_placeholder(store: Store, line_id: int) -> None:
    part = sms(None, encoding="8bit", user_data=b"\x00\x01\xff", reason="binary data (8-bit)")
    [message] = (await store.inbound.record_inbound(line_id, [part], now=T0)).messages
    assert (message.text, message.is_text) == (None, False)
    assert message.placeholder_reason == "binary data (8-bit)"


@pytest.mark.parametrize(
    ("sender", "expected"),
    [("+15551234567", "+15551234567"), ("5551234567", "+15551234567"), ("BANK", "BANK")],
)
async def test_senders_are_normalised_with_the_default_region(
    store: Store, line_id: int, sender: str, expected: str
) -> None:
    [message] = (await store.inbound.record_inbound(line_id, [sms(sender=sender)], now=T0)).messages
    assert message.phone == expected


async def test_history_is_ordered_by_scts_with_arrival_breaking_ties(
    store: Store, line_id: int
) -> None:
    # Arrival order differs from SCTS order; two messages share one SCTS.
    await store.inbound.record_inbound(line_id, [sms("third", scts=T0 + timedelta(seconds=9))])
    await store.inbound.record_inbound(line_id, [sms("first", scts=T0)])
    await store.inbound.record_inbound(line_id, [sms("second", scts=T0)])
    await store.inbound.record_inbound(line_id, [sms("waiting", ref=1, seq=1, total=2)])
    contact = await store.contacts.ensure(CUSTOMER)
    history = await store.messages.history(contact.id)
    assert [m.text for m in history] == ["first", "second", "third"]
    page = await store.messages.history(contact.id, limit=2)
    assert [m.text for m in page] == ["second", "third"]
    older = await store.messages.history(contact.id, before=(page[0].sort_at, page[0].id))
    assert [m.text for m in older] == ["first"]
