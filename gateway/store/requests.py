"""SMS Chat Requests: routing each inbound text to its open case or to the request queue, and
answering requests. Answering is one conditional UPDATE, so of two agents answering at once
exactly one wins.

Each change appends its events to the log (and its audit entry) in the same transaction, and
returns the events so the caller publishes them after the commit.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import exc as sa_exc
from sqlalchemy import select, update

from gateway.store import convert, listing
from gateway.store.accounts import add_audit
from gateway.store.cases import attach_unrouted, contact_phone
from gateway.store.database import Database
from gateway.store.domain import AnswerOutcome, ChatRequest, Event, RequestPage, RouteOutcome
from gateway.store.errors import (
    ConflictError,
    InvalidTransitionError,
    NotFoundError,
    RequestAlreadyHandledError,
)
from gateway.store.event_data import case_event_data, request_event_data
from gateway.store.events import append_event
from gateway.store.models import CaseRow, ContactRow, LineRow, MessageRow, RequestRow


class RequestsRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- routing

    async def route_inbound(
        self, message_id: int, now: datetime, *, opt_out: bool | None = None
    ) -> RouteOutcome:
        """Puts an inbound message where an agent sees it: its contact's open case, else the
        contact's pending request, else a new request. Idempotent: a routed message is skipped.

        `opt_out` True flags the contact as opted out, False clears the flag, None leaves it.
        """
        async with self._db.write() as session:
            message = await session.get(MessageRow, message_id)
            if message is None:
                raise NotFoundError("message", message_id)
            if message.direction != "in" or message.contact_id is None:
                return RouteOutcome("skipped", message_id)
            contact = await session.get(ContactRow, message.contact_id)
            assert contact is not None
            events: list[Event] = []
            if opt_out is not None and contact.opted_out != opt_out:
                contact.opted_out = opt_out
                contact.opted_out_at = now if opt_out else None
            if message.case_id is not None:
                return RouteOutcome("skipped", message_id)
            case_row = (
                await session.execute(
                    select(CaseRow).where(
                        CaseRow.contact_id == contact.id, CaseRow.status == "open"
                    )
                )
            ).scalar_one_or_none()
            if case_row is not None:
                message.case_id = case_row.id
                await session.flush()
                case = convert.case(case_row, contact.number)
                data = case_event_data(case) | {
                    "reason": "message", "message_id": message_id,
                    "opted_out": contact.opted_out,
                }
                events.append(await append_event(session, "case.updated", data, now))
                return RouteOutcome("attached", message_id, case=case, events=tuple(events))
            pending = (
                await session.execute(
                    select(RequestRow).where(
                        RequestRow.contact_id == contact.id, RequestRow.status == "pending"
                    )
                )
            ).scalar_one_or_none()
            if pending is not None:
                # Further texts join the waiting request (the preview shows the newest one).
                pending.message_id = message_id
                await session.flush()
                request = convert.request(pending, contact.number)
                events.append(await append_event(
                    session, "request.updated",
                    request_event_data(request) | {"message_id": message_id}, now,
                ))
                return RouteOutcome("request_updated", message_id, request=request,
                                    events=tuple(events))
            row = RequestRow(
                contact_id=contact.id, line_id=message.line_id, message_id=message_id,
                status="pending", overdue=False, created_at=now,
            )
            session.add(row)
            await session.flush()
            request = convert.request(row, contact.number)
            events.append(await append_event(
                session, "request.created",
                request_event_data(request) | {"message_id": message_id}, now,
            ))
            return RouteOutcome("request_created", message_id, request=request,
                                events=tuple(events))

    async def unrouted_inbound(self, limit: int) -> list[int]:
        """Inbound messages that are in no case and whose contact has no pending request:
        what a crash between the pipeline's commit and routing would leave behind."""
        pending = select(RequestRow.id).where(
            RequestRow.contact_id == MessageRow.contact_id, RequestRow.status == "pending"
        )
        async with self._db.read() as session:
            rows = await session.execute(
                select(MessageRow.id)
                .where(
                    MessageRow.direction == "in",
                    MessageRow.case_id.is_(None),
                    MessageRow.contact_id.is_not(None),
                    MessageRow.status != "receiving",
                    ~pending.exists(),
                )
                .order_by(MessageRow.sort_at, MessageRow.id)
                .limit(limit)
            )
            return [int(value) for value in rows.scalars()]

    # -- requests

    async def get(self, request_id: int) -> ChatRequest | None:
        async with self._db.read() as session:
            row = await session.get(RequestRow, request_id)
            if row is None:
                return None
            return convert.request(row, await contact_phone(session, row.contact_id))

    async def pending(self, limit: int | None = None) -> list[ChatRequest]:
        """Oldest first: the order agents should answer in."""
        query = (
            select(RequestRow, ContactRow.number)
            .join(ContactRow, ContactRow.id == RequestRow.contact_id)
            .where(RequestRow.status == "pending")
            .order_by(RequestRow.created_at, RequestRow.id)
        )
        if limit is not None:
            query = query.limit(limit)
        async with self._db.read() as session:
            rows = await session.execute(query)
            return [convert.request(row, number) for row, number in rows]

    async def pending_page(
        self, *, limit: int, after: int | None = None, excluded: Collection[int] = ()
    ) -> RequestPage:
        """A page of the queue, oldest first, with the total count and the oldest request, in
        a fixed number of statements however long the queue (see gateway.store.listing)."""
        return await self._db.run_read(
            lambda c: listing.request_page(c, limit=limit, after=after, excluded=excluded)
        )

    async def pending_count(self) -> int:
        return await self._db.run_read(listing.pending_count)

    async def answer_request(
        self,
        request_id: int,
        agent_id: int,
        now: datetime,
        *,
        continue_case_id: int | None = None,
    ) -> AnswerOutcome:
        """The first agent to answer wins; a second gets RequestAlreadyHandledError.

        With `continue_case_id` the contact's closed case is reopened for the agent; otherwise a
        new case is created. A request raised for an open case (raise_for_case) moves that case
        to the agent. Messages waiting in the request join the case.
        """
        async with self._db.write() as session:
            won = await session.execute(
                update(RequestRow)
                .where(RequestRow.id == request_id, RequestRow.status == "pending")
                .values(status="answered", answered_by=agent_id, answered_at=now)
            )
            row = await session.get(RequestRow, request_id)
            if row is None:
                raise NotFoundError("request", request_id)
            if getattr(won, "rowcount", 0) != 1:
                raise RequestAlreadyHandledError(request_id, row.status)
            phone = await contact_phone(session, row.contact_id)
            events: list[Event] = []
            takeover = row.case_id is not None  # raised for an open case (see raise_for_case)
            if takeover:
                continue_case_id = row.case_id
            if continue_case_id is not None:
                case_row = await session.get(CaseRow, continue_case_id)
                if case_row is None or case_row.contact_id != row.contact_id:
                    raise NotFoundError("case", continue_case_id)
                if case_row.status != "closed" and not (takeover and case_row.status == "open"):
                    raise InvalidTransitionError("case", case_row.id, case_row.status, "open")
                case_row.status = "open"
                case_row.agent_id = agent_id
                case_row.closed_at = None
                case_row.closed_by = None
                case_row.line_id = row.line_id
            else:
                case_row = CaseRow(
                    contact_id=row.contact_id, line_id=row.line_id, status="open",
                    agent_id=agent_id, address_status="pending", opened_at=now,
                )
                session.add(case_row)
            try:
                await session.flush()
            except sa_exc.IntegrityError as error:
                raise ConflictError(f"contact of request {request_id} already has an open case"
                                    ) from error
            row.case_id = case_row.id
            await attach_unrouted(session, row.contact_id, case_row.id)
            await session.flush()
            request = convert.request(row, phone)
            case = convert.case(case_row, phone)
            events.append(await append_event(session, "request.answered",
                                             request_event_data(request), now))
            events.append(await append_event(
                session, "case.opened",
                case_event_data(case) | {"continued": continue_case_id is not None}, now,
            ))
            add_audit(session, user_id=agent_id, action="request.answer",
                      target=f"request:{request_id}",
                      details={"case_id": case.id, "continued": continue_case_id is not None},
                      now=now)
            return AnswerOutcome(request, case, tuple(events))

    async def raise_for_case(
        self, case_id: int, message_id: int | None, now: datetime
    ) -> tuple[ChatRequest, tuple[Event, ...]] | None:
        """An open case handed to the other agents (its agent is away, or hands it back): a
        pending request carrying `case_id`, previewing `message_id` (else the customer's latest
        text), which answering takes over. None when the case is not open or its customer
        already has a pending request (it rings already)."""
        async with self._db.write() as session:
            case_row = await session.get(CaseRow, case_id)
            if case_row is None or case_row.status != "open":
                return None
            pending = await session.scalar(select(RequestRow.id).where(
                RequestRow.contact_id == case_row.contact_id, RequestRow.status == "pending"
            ))
            if pending is not None:
                return None
            if message_id is None:
                message_id = await session.scalar(
                    select(MessageRow.id)
                    .where(MessageRow.contact_id == case_row.contact_id,
                           MessageRow.direction == "in")
                    .order_by(MessageRow.sort_at.desc(), MessageRow.id.desc())
                    .limit(1)
                )
            message = await session.get(MessageRow, message_id) if message_id else None
            line_id = case_row.line_id or (message.line_id if message is not None else None)
            if line_id is None:
                line_id = await session.scalar(select(LineRow.id).order_by(LineRow.id).limit(1))
            if line_id is None:
                return None
            row = RequestRow(
                contact_id=case_row.contact_id, line_id=line_id, message_id=message_id,
                status="pending", overdue=False, created_at=now, case_id=case_id,
            )
            session.add(row)
            await session.flush()
            request = convert.request(row, await contact_phone(session, case_row.contact_id))
            event = await append_event(
                session, "request.created",
                request_event_data(request) | {"message_id": message_id,
                                               "away_agent_id": case_row.agent_id},
                now,
            )
            return request, (event,)

    async def withdraw(self, request_id: int, now: datetime) -> tuple[Event, ...]:
        """Cancel a pending request that is no longer needed (the away agent whose case it
        rang for is back); nothing when it was answered or cancelled meanwhile."""
        async with self._db.write() as session:
            row = await session.get(RequestRow, request_id)
            if row is None or row.status != "pending":
                return ()
            row.status = "cancelled"
            await session.flush()
            request = convert.request(row, await contact_phone(session, row.contact_id))
            return (await append_event(session, "request.cancelled",
                                       request_event_data(request), now),)

    async def mark_overdue(self, created_before: datetime, now: datetime) -> list[Event]:
        async with self._db.write() as session:
            rows = (
                await session.execute(
                    select(RequestRow, ContactRow.number)
                    .join(ContactRow, ContactRow.id == RequestRow.contact_id)
                    .where(
                        RequestRow.status == "pending",
                        RequestRow.overdue.is_(False),
                        RequestRow.created_at <= created_before,
                    )
                )
            ).all()
            events = []
            for row, number in rows:
                row.overdue = True
                await session.flush()
                events.append(await append_event(
                    session, "request.overdue", request_event_data(convert.request(row, number)),
                    now,
                ))
            return events
