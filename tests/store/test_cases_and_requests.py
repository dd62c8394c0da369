"""Requests and cases: one winner per request, one open case per number, history across cases."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from gateway.store import (
    CaseAlreadyOpenError,
    InvalidTransitionError,
    RequestAlreadyHandledError,
    Store,
)

from .conftest import T0
from .helpers import CUSTOMER, encoded, sms


async def _inbound_request(store: Store, line_id: int, text: str = "help") -> tuple[int, int]:
    """A customer text raising a request: returns (contact_id, request_id)."""
    [message] = (await store.inbound.record_inbound(line_id, [sms(text)], now=T0)).messages
    assert message.contact_id is not None
    change = await store.requests.create_request(message.contact_id, line_id, message.id, now=T0)
    return message.contact_id, change.request.id


async def test_two_agents_answering_at_once_produce_exactly_one_winner(
    store_url: str,
) -> None:
    # Two separate stores (engines), as two processes or two API workers would have.
    first, second = await Store.open(store_url), await Store.open(store_url)
    try:
        line = await first.lines.ensure("line-1")
        alice = await first.users.create("alice", "agent", "hash-a")
        bob = await first.users.create("bob", "agent", "hash-b")
        for attempt in range(3):
            _, request_id = await _inbound_request(first, line.id, f"help {attempt}")
            outcomes = await asyncio.gather(
                first.requests.answer_request(request_id, alice.id),
                second.requests.answer_request(request_id, bob.id),
                return_exceptions=True,
            )
            winners = [o for o in outcomes if not isinstance(o, BaseException)]
            losers = [o for o in outcomes if isinstance(o, RequestAlreadyHandledError)]
            assert (len(winners), len(losers)) == (1, 1), outcomes
            [won] = winners
            request = await first.requests.get(request_id)
            assert request.answered_by == won.request.answered_by
            assert request.case_id == won.case.id
            assert won.case.agent_id == request.answered_by
            assert [c.id for c in await first.cases.list_cases(status="open")] == [won.case.id]
            await first.cases.close_case(won.case.id, request.answered_by)
    finally:
        await first.close()
        await second.close()


async def test_answering_opens_a_case_with_the_request_messages(
    store: Store, line_id: int
) -> None:
    agent = await store.users.create("alice", "agent", "h")
    contact_id, request_id = await _inbound_request(store, line_id)
    # A further text while the request waits joins it instead of raising another.
    [more] = (await store.inbound.record_inbound(line_id, [sms("hello?", scts=T0 + timedelta(1))],
                                                 now=T0)).messages
    joined = await store.requests.create_request(contact_id, line_id, more.id)
    assert (joined.request.id, joined.event, joined.created) == (request_id, None, False)
    assert [r.id for r in await store.requests.pending()] == [request_id]

    answer = await store.requests.answer_request(request_id, agent.id, now=T0)
    assert answer.case_created
    assert (answer.case.status, answer.case.phone, answer.case.agent_id) == (
        "open", CUSTOMER, agent.id,
    )
    assert [e.type for e in answer.events] == ["request.answered", "case.opened"]
    assert [m.text for m in await store.messages.for_case(answer.case.id)] == ["help", "hello?"]
    assert await store.requests.pending() == []
    with pytest.raises(RequestAlreadyHandledError, match="answered"):
        await store.requests.answer_request(request_id, agent.id)


async def test_after_closing_a_new_request_can_continue_the_case(
    store: Store, line_id: int
) -> None:
    agent = await store.users.create("alice", "agent", "h")
    contact_id, first_request = await _inbound_request(store, line_id, "first")
    case = (await store.requests.answer_request(first_request, agent.id)).case
    closed = await store.cases.close_case(case.id, agent.id, now=T0 + timedelta(minutes=5))
    assert (closed.case.status, closed.case.closed_by) == ("closed", agent.id)
    assert closed.event is not None
    assert closed.event.type == "case.closed"
    with pytest.raises(InvalidTransitionError):
        await store.cases.close_case(case.id, agent.id)

    [again] = (await store.inbound.record_inbound(
        line_id, [sms("again", scts=T0 + timedelta(hours=1))], now=T0)).messages
    second_request = (await store.requests.create_request(contact_id, line_id, again.id)).request
    assert second_request.id != first_request
    recent = await store.cases.most_recent(contact_id)
    assert recent is not None
    assert (recent.id, recent.closed_by) == (case.id, agent.id)

    answer = await store.requests.answer_request(
        second_request.id, agent.id, continue_case_id=case.id
    )
    assert (answer.case.id, answer.case.status, answer.case_created) == (case.id, "open", False)
    assert answer.events[1].data["continued"] is True
    assert [m.text for m in await store.messages.for_case(case.id)] == ["first", "again"]


async def test_a_number_never_has_two_open_cases(store: Store, line_id: int) -> None:
    contact = await store.contacts.ensure("+1 555 123 4567")
    first = await store.cases.open_case(contact.id, line_id, None)
    assert first.created
    again = await store.cases.open_case(contact.id, line_id, None)
    assert (again.case.id, again.created, again.event) == (first.case.id, False, None)
    assert await store.cases.find_open(contact.id) == first.case
    # A closed case cannot be continued while another case of the number is open.
    await store.cases.close_case(first.case.id, None)
    other = await store.cases.open_case(contact.id, line_id, None)
    with pytest.raises(CaseAlreadyOpenError):
        await store.cases.continue_case(first.case.id, None)
    assert (await store.cases.find_open(contact.id)) == other.case


async def test_concurrent_outbound_chats_to_one_number_share_one_case(store_url: str) -> None:
    first, second = await Store.open(store_url), await Store.open(store_url)
    try:
        line = await first.lines.ensure("line-1")
        contact = await first.contacts.ensure(CUSTOMER)
        results = await asyncio.gather(
            first.cases.open_case(contact.id, line.id, None),
            second.cases.open_case(contact.id, line.id, None),
        )
        assert results[0].case.id == results[1].case.id
        assert sorted(r.created for r in results) == [False, True]
    finally:
        await first.close()
        await second.close()


async def test_history_holds_every_message_of_the_number_across_cases(
    store: Store, line_id: int
) -> None:
    agent = await store.users.create("alice", "agent", "h")
    contact_id, request_id = await _inbound_request(store, line_id, "in one")
    case = (await store.requests.answer_request(request_id, agent.id)).case
    await store.outbound.queue_outbound(
        line_id=line_id, to=CUSTOMER, text="reply one", encoded=encoded("reply one"),
        case_id=case.id, created_by=agent.id, now=T0 + timedelta(minutes=1),
    )
    await store.cases.close_case(case.id, agent.id)
    second = await store.cases.open_case(contact_id, line_id, agent.id)
    await store.outbound.queue_outbound(
        line_id=line_id, to=CUSTOMER, text="reply two", encoded=encoded("reply two"),
        case_id=second.case.id, created_by=agent.id, now=T0 + timedelta(hours=2),
    )
    history = await store.messages.history(contact_id)
    assert [m.text for m in history] == ["in one", "reply one", "reply two"]
    assert [m.case_id for m in history] == [case.id, case.id, second.case.id]
    assert history[1].parts[0].status == "queued"


async def test_overdue_requests_are_flagged_once(store: Store, line_id: int) -> None:
    _, request_id = await _inbound_request(store, line_id)
    assert await store.requests.mark_overdue(T0 - timedelta(seconds=1)) == []
    [change] = await store.requests.mark_overdue(T0 + timedelta(minutes=2))
    assert change.request.overdue
    assert change.event is not None
    assert change.event.type == "request.overdue"
    assert await store.requests.mark_overdue(T0 + timedelta(minutes=3)) == []
    cancelled = await store.requests.cancel_request(request_id)
    assert cancelled.request.status == "cancelled"


async def test_reassignment_and_address_update_the_case(store: Store, line_id: int) -> None:
    alice = await store.users.create("alice", "agent", "h")
    bob = await store.users.create("bob", "agent", "h")
    contact = await store.contacts.ensure(CUSTOMER)
    case = (await store.cases.open_case(contact.id, line_id, alice.id)).case
    moved = await store.cases.assign(case.id, bob.id)
    assert moved.case.agent_id == bob.id
    assert moved.event is not None
    assert moved.event.type == "case.updated"
    found = await store.cases.set_address(case.id, "1 Main St", "found")
    assert (found.case.address, found.case.address_status) == ("1 Main St", "found")
    assert [c.id for c in await store.cases.list_cases(agent_id=bob.id)] == [case.id]
