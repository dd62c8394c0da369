"""Requests and cases: one winner per request, one open case per number, history across cases."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from gateway.store import (
    AnswerOutcome,
    CaseAlreadyOpenError,
    CaseChange,
    ConflictError,
    InvalidTransitionError,
    RequestAlreadyHandledError,
    Store,
)
from gateway.store.models import CaseRow

from .conftest import T0
from .helpers import CUSTOMER, encoded, sms


async def _text_in(store: Store, line_id: int, text: str, minutes: int = 0) -> int:
    """A customer's text, stored as the pipeline stores it; returns the message id."""
    at = T0 + timedelta(minutes=minutes)
    [message] = (await store.inbound.record_inbound(line_id, [sms(text, scts=at)], now=at)).messages
    return message.id


async def _inbound_request(store: Store, line_id: int, text: str = "help") -> tuple[int, int]:
    """A customer text routed into a new request: returns (contact_id, request_id)."""
    outcome = await store.requests.route_inbound(await _text_in(store, line_id, text), T0)
    assert outcome.kind == "request_created"
    assert outcome.request is not None
    return outcome.request.contact_id, outcome.request.id


async def _open_case_elsewhere(store: Store, contact_id: int, line_id: int) -> None:
    """A case opened by another process at the same moment, before a request was settled."""
    async with store.db.write() as session:
        session.add(CaseRow(contact_id=contact_id, line_id=line_id, status="open",
                            agent_id=None, address_status="pending", opened_at=T0))


async def test_two_agents_answering_at_once_produce_exactly_one_winner(
    store_url: str,
) -> None:
    # Two separate stores (engines), as two processes or two API workers would have.
    first, second = await Store.open(store_url), await Store.open(store_url)
    try:
        line = await first.lines.ensure("line-1")
        alice = await first.accounts.create_user("alice", "agent", "hash-a", T0)
        bob = await first.accounts.create_user("bob", "agent", "hash-b", T0)
        for attempt in range(3):
            _, request_id = await _inbound_request(first, line.id, f"help {attempt}")
            outcomes = await asyncio.gather(
                first.requests.answer_request(request_id, alice.id, T0),
                second.requests.answer_request(request_id, bob.id, T0),
                return_exceptions=True,
            )
            winners = [o for o in outcomes if isinstance(o, AnswerOutcome)]
            losers = [o for o in outcomes if isinstance(o, RequestAlreadyHandledError)]
            assert (len(winners), len(losers)) == (1, 1), outcomes
            assert isinstance(losers[0], ConflictError)  # the API's 409
            [won] = winners
            request = await first.requests.get(request_id)
            assert request is not None
            assert request.answered_by == won.request.answered_by
            assert request.case_id == won.case.id
            assert won.case.agent_id == request.answered_by
            assert [c.id for c in await first.cases.list_cases(status="open")] == [won.case.id]
            assert request.answered_by is not None
            await first.cases.close_case(won.case.id, request.answered_by, T0)
    finally:
        await first.close()
        await second.close()


async def test_answering_opens_a_case_with_the_request_messages(
    store: Store, line_id: int
) -> None:
    agent = await store.accounts.create_user("alice", "agent", "h", T0)
    contact_id, request_id = await _inbound_request(store, line_id)
    # A further text while the request waits joins it instead of raising another.
    joined = await store.requests.route_inbound(await _text_in(store, line_id, "hello?", 1), T0)
    assert joined.kind == "request_updated"
    assert joined.request is not None
    assert joined.request.id == request_id
    assert [e.type for e in joined.events] == ["request.updated"]
    assert [r.id for r in await store.requests.pending()] == [request_id]

    answer = await store.requests.answer_request(request_id, agent.id, T0)
    assert (answer.case.status, answer.case.phone, answer.case.agent_id) == (
        "open", CUSTOMER, agent.id,
    )
    assert [e.type for e in answer.events] == ["request.answered", "case.opened"]
    assert answer.events[0].data["request_id"] == request_id
    assert answer.events[1].data["case_id"] == answer.case.id
    assert answer.events[1].data["continued"] is False
    history = await store.messages.history(contact_id)
    assert [(m.text, m.case_id) for m in history] == [
        ("help", answer.case.id), ("hello?", answer.case.id),
    ]
    assert await store.requests.pending() == []
    with pytest.raises(RequestAlreadyHandledError, match="answered"):
        await store.requests.answer_request(request_id, agent.id, T0)
    [audit] = await store.accounts.audit_log(limit=10, target=f"request:{request_id}")
    assert (audit.action, audit.user_id) == ("request.answer", agent.id)


async def test_texts_while_a_case_is_open_join_the_case_and_routing_is_idempotent(
    store: Store, line_id: int
) -> None:
    agent = await store.accounts.create_user("alice", "agent", "h", T0)
    _, request_id = await _inbound_request(store, line_id)
    case = (await store.requests.answer_request(request_id, agent.id, T0)).case
    message_id = await _text_in(store, line_id, "more", 1)
    assert await store.requests.unrouted_inbound(10) == [message_id]
    attached = await store.requests.route_inbound(message_id, T0)
    assert (attached.kind, attached.case) == ("attached", case)
    assert [e.type for e in attached.events] == ["case.updated"]
    assert await store.requests.unrouted_inbound(10) == []
    again = await store.requests.route_inbound(message_id, T0)
    assert (again.kind, again.events) == ("skipped", ())


async def test_after_closing_a_new_request_can_continue_the_case(
    store: Store, line_id: int
) -> None:
    agent = await store.accounts.create_user("alice", "agent", "h", T0)
    contact_id, first_request = await _inbound_request(store, line_id, "first")
    case = (await store.requests.answer_request(first_request, agent.id, T0)).case
    closed = await store.cases.close_case(case.id, agent.id, T0 + timedelta(minutes=5))
    assert (closed.case.status, closed.case.closed_by) == ("closed", agent.id)
    assert [e.type for e in closed.events] == ["case.closed"]
    with pytest.raises(InvalidTransitionError):
        await store.cases.close_case(case.id, agent.id, T0)

    routed = await store.requests.route_inbound(await _text_in(store, line_id, "again", 60), T0)
    assert routed.request is not None
    second_request = routed.request
    assert second_request.id != first_request
    recent = await store.cases.most_recent(contact_id)
    assert recent is not None
    assert (recent.id, recent.closed_by) == (case.id, agent.id)

    answer = await store.requests.answer_request(
        second_request.id, agent.id, T0, continue_case_id=case.id
    )
    assert (answer.case.id, answer.case.status, answer.case.closed_at) == (case.id, "open", None)
    assert answer.events[1].data["continued"] is True
    history = await store.messages.history(contact_id)
    assert [(m.text, m.case_id) for m in history] == [("first", case.id), ("again", case.id)]


async def test_a_number_never_has_two_open_cases(store: Store, line_id: int) -> None:
    agent = await store.accounts.create_user("alice", "agent", "h", T0)
    contact = await store.contacts.ensure("+1 555 123 4567")
    first = await store.cases.open_case(contact.id, line_id, agent.id, T0)
    assert first.created
    again = await store.cases.open_case(contact.id, line_id, agent.id, T0)
    assert (again.case.id, again.created, again.events) == (first.case.id, False, ())
    assert [c.id for c in await store.cases.list_cases(status="open")] == [first.case.id]
    # A closed case cannot be continued while another case of the number is open.
    await store.cases.close_case(first.case.id, agent.id, T0)
    _, request_id = await _inbound_request(store, line_id)
    await _open_case_elsewhere(store, contact.id, line_id)
    with pytest.raises(ConflictError):
        await store.requests.answer_request(request_id, agent.id, T0,
                                            continue_case_id=first.case.id)
    # Nor can a new one be opened by answering; nothing of the answer was kept.
    with pytest.raises(ConflictError):
        await store.requests.answer_request(request_id, agent.id, T0)
    assert [r.id for r in await store.requests.pending()] == [request_id]
    open_cases = await store.cases.list_cases(status="open")
    assert len(open_cases) == 1
    assert open_cases[0].id != first.case.id
    # An open case cannot be continued: it is open already.
    with pytest.raises(InvalidTransitionError):
        await store.requests.answer_request(request_id, agent.id, T0,
                                            continue_case_id=open_cases[0].id)


async def test_concurrent_outbound_chats_to_one_number_share_one_case(store_url: str) -> None:
    first, second = await Store.open(store_url), await Store.open(store_url)
    try:
        line = await first.lines.ensure("line-1")
        agent = await first.accounts.create_user("alice", "agent", "h", T0)
        contact = await first.contacts.ensure(CUSTOMER)
        results = await asyncio.gather(
            first.cases.open_case(contact.id, line.id, agent.id, T0),
            second.cases.open_case(contact.id, line.id, agent.id, T0),
            return_exceptions=True,
        )
        # The loser either saw the winner's case or hit the unique index (the service then
        # takes the open case); never a second open case.
        created = [r for r in results if isinstance(r, CaseChange) and r.created]
        others = [r for r in results if not (isinstance(r, CaseChange) and r.created)]
        assert len(created) == 1, results
        [other] = others
        if isinstance(other, CaseChange):
            assert (other.case.id, other.created) == (created[0].case.id, False)
        else:
            assert isinstance(other, CaseAlreadyOpenError), results
            assert other.case_id == created[0].case.id
        open_cases = await first.cases.list_cases(status="open")
        assert [c.id for c in open_cases] == [created[0].case.id]
    finally:
        await first.close()
        await second.close()


async def test_an_agents_chat_settles_the_numbers_waiting_request(
    store: Store, line_id: int
) -> None:
    agent = await store.accounts.create_user("alice", "agent", "h", T0)
    contact_id, request_id = await _inbound_request(store, line_id)
    change = await store.cases.open_case(contact_id, None, agent.id, T0)
    assert change.created
    assert change.case.line_id == line_id  # the line the number last used
    assert [e.type for e in change.events] == ["request.cancelled", "case.opened"]
    request = await store.requests.get(request_id)
    assert request is not None
    assert (request.status, request.case_id) == ("cancelled", change.case.id)
    assert [m.case_id for m in await store.messages.history(contact_id)] == [change.case.id]
    with pytest.raises(RequestAlreadyHandledError, match="cancelled"):
        await store.requests.answer_request(request_id, agent.id, T0)


async def test_history_holds_every_message_of_the_number_across_cases(
    store: Store, line_id: int
) -> None:
    agent = await store.accounts.create_user("alice", "agent", "h", T0)
    contact_id, request_id = await _inbound_request(store, line_id, "in one")
    case = (await store.requests.answer_request(request_id, agent.id, T0)).case
    await store.outbound.queue_outbound(
        line_id=line_id, to=CUSTOMER, text="reply one", encoded=encoded("reply one"),
        case_id=case.id, created_by=agent.id, now=T0 + timedelta(minutes=1),
    )
    await store.cases.close_case(case.id, agent.id, T0 + timedelta(minutes=1))
    second = await store.cases.open_case(contact_id, line_id, agent.id, T0 + timedelta(hours=1))
    await store.outbound.queue_outbound(
        line_id=line_id, to=CUSTOMER, text="reply two", encoded=encoded("reply two"),
        case_id=second.case.id, created_by=agent.id, now=T0 + timedelta(hours=2),
    )
    history = await store.messages.history(contact_id)
    assert [m.text for m in history] == ["in one", "reply one", "reply two"]
    assert [m.case_id for m in history] == [case.id, case.id, second.case.id]
    assert history[1].parts[0].status == "queued"
    starts = await store.cases.case_starts([case.id, second.case.id])
    assert starts == {case.id: history[0].sort_at, second.case.id: history[2].sort_at}


async def test_overdue_requests_are_flagged_once(store: Store, line_id: int) -> None:
    _, request_id = await _inbound_request(store, line_id)
    assert await store.requests.mark_overdue(T0 - timedelta(seconds=1), T0) == []
    [event] = await store.requests.mark_overdue(T0 + timedelta(minutes=2), T0)
    assert (event.type, event.data["request_id"]) == ("request.overdue", request_id)
    request = await store.requests.get(request_id)
    assert request is not None
    assert request.overdue
    assert await store.requests.mark_overdue(T0 + timedelta(minutes=3), T0) == []


async def test_reassignment_and_address_update_the_case(store: Store, line_id: int) -> None:
    alice = await store.accounts.create_user("alice", "agent", "h", T0)
    bob = await store.accounts.create_user("bob", "agent", "h", T0)
    boss = await store.accounts.create_user("boss", "supervisor", "h", T0)
    contact = await store.contacts.ensure(CUSTOMER)
    case = (await store.cases.open_case(contact.id, line_id, alice.id, T0)).case
    moved = await store.cases.reassign_case(case.id, bob.id, boss.id, T0)
    assert moved.case.agent_id == bob.id
    [event] = moved.events
    assert (event.type, event.data["previous_agent_id"]) == ("case.updated", alice.id)
    assert await store.cases.case_agent(case.id) == bob.id
    assert await store.cases.open_case_agents() == {case.id: bob.id}
    assert await store.cases.open_case_counts() == {bob.id: 1}
    found = await store.cases.set_address(case.id, "found", "1 Main St", T0)
    assert (found.case.address, found.case.address_status) == ("1 Main St", "found")
    assert [c.id for c in await store.cases.list_cases(agent_id=bob.id)] == [case.id]
    assert await store.cases.list_cases(agent_id=alice.id) == []
    assert await store.cases.get(case.id + 1) is None
