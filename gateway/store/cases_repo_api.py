"""Cases and SMS Chat Requests: routing inbound texts, answering, opening and closing cases.

Each change appends its events to the log and its audit entry in the same transaction, and
returns the events so the caller publishes them after the commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import exc as sa_exc
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.store import convert
from gateway.store.accounts_repo_api import add_audit
from gateway.store.database import Database
from gateway.store.domain import AddressStatus, Case, CaseStatus, ChatRequest, Event
from gateway.store.errors import (
    CaseAlreadyOpenError,
    ConflictError,
    InvalidTransitionError,
    NotFoundError,
    RequestAlreadyHandledError,
)
from gateway.store.events import append_event
from gateway.store.models import CaseRow, ContactRow, MessageRow, RequestRow, UserRow

RouteKind = Literal["attached", "request_created", "request_updated", "skipped"]


@dataclass(frozen=True, slots=True)
class RouteOutcome:
    kind: RouteKind
    message_id: int
    case: Case | None = None
    request: ChatRequest | None = None
    events: tuple[Event, ...] = ()


@dataclass(frozen=True, slots=True)
class CaseChange:
    case: Case
    events: tuple[Event, ...]
    created: bool = False


@dataclass(frozen=True, slots=True)
class AnswerOutcome:
    request: ChatRequest
    case: Case
    events: tuple[Event, ...]


def case_event_data(case: Case) -> dict[str, Any]:
    return {
        "case_id": case.id, "agent_id": case.agent_id, "phone": case.phone,
        "status": case.status, "line_id": case.line_id,
    }


def request_event_data(request: ChatRequest) -> dict[str, Any]:
    return {
        "request_id": request.id, "phone": request.phone, "line_id": request.line_id,
        "status": request.status, "case_id": request.case_id, "agent_id": request.answered_by,
    }


async def _phone(session: AsyncSession, contact_id: int) -> str:
    number = await session.scalar(select(ContactRow.number).where(ContactRow.id == contact_id))
    if number is None:
        raise NotFoundError("contact", contact_id)
    return number


async def _attach_unrouted(session: AsyncSession, contact_id: int, case_id: int) -> None:
    await session.execute(
        update(MessageRow)
        .where(
            MessageRow.contact_id == contact_id,
            MessageRow.direction == "in",
            MessageRow.case_id.is_(None),
        )
        .values(case_id=case_id)
    )


async def _cancel_pending(
    session: AsyncSession, contact_id: int, case_id: int, now: datetime
) -> list[Event]:
    rows = (
        await session.execute(
            select(RequestRow).where(
                RequestRow.contact_id == contact_id, RequestRow.status == "pending"
            )
        )
    ).scalars().all()
    events = []
    for row in rows:
        row.status = "cancelled"
        row.case_id = case_id
        await session.flush()
        request = convert.request(row, await _phone(session, contact_id))
        events.append(await append_event(session, "request.cancelled",
                                         request_event_data(request), now))
    return events


class CasesRepository:
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

    async def get_request(self, request_id: int) -> ChatRequest | None:
        async with self._db.read() as session:
            row = await session.get(RequestRow, request_id)
            if row is None:
                return None
            return convert.request(row, await _phone(session, row.contact_id))

    async def pending_requests(self) -> list[ChatRequest]:
        async with self._db.read() as session:
            rows = await session.execute(
                select(RequestRow, ContactRow.number)
                .join(ContactRow, ContactRow.id == RequestRow.contact_id)
                .where(RequestRow.status == "pending")
                .order_by(RequestRow.created_at, RequestRow.id)
            )
            return [convert.request(row, number) for row, number in rows]

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
        new case is created. Messages waiting in the request join the case.
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
            phone = await _phone(session, row.contact_id)
            events: list[Event] = []
            takeover = row.case_id is not None  # a text in an away agent's open case
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
            await _attach_unrouted(session, row.contact_id, case_row.id)
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

    # -- cases

    async def get_case(self, case_id: int) -> Case | None:
        async with self._db.read() as session:
            found = (
                await session.execute(
                    select(CaseRow, ContactRow.number)
                    .join(ContactRow, ContactRow.id == CaseRow.contact_id)
                    .where(CaseRow.id == case_id)
                )
            ).one_or_none()
            return convert.case(found[0], found[1]) if found is not None else None

    async def list_cases(
        self,
        *,
        status: CaseStatus | None = None,
        agent_id: int | None = None,
        contact_id: int | None = None,
        limit: int = 200,
    ) -> list[Case]:
        query = (
            select(CaseRow, ContactRow.number)
            .join(ContactRow, ContactRow.id == CaseRow.contact_id)
            .order_by(CaseRow.opened_at.desc(), CaseRow.id.desc())
            .limit(limit)
        )
        if status is not None:
            query = query.where(CaseRow.status == status)
        if agent_id is not None:
            query = query.where(CaseRow.agent_id == agent_id)
        if contact_id is not None:
            query = query.where(CaseRow.contact_id == contact_id)
        async with self._db.read() as session:
            rows = await session.execute(query)
            return [convert.case(row, number) for row, number in rows]

    async def most_recent_case(self, contact_id: int) -> Case | None:
        cases = await self.list_cases(contact_id=contact_id, limit=1)
        return cases[0] if cases else None

    async def open_case(
        self, contact_id: int, line_id: int | None, agent_id: int, now: datetime
    ) -> CaseChange:
        """An agent-initiated chat: the contact's open case if there is one, else a new one.

        A pending request from the same number is settled by the new case (it stops ringing).
        """
        async with self._db.write() as session:
            phone = await _phone(session, contact_id)
            existing = (
                await session.execute(
                    select(CaseRow).where(CaseRow.contact_id == contact_id,
                                          CaseRow.status == "open")
                )
            ).scalar_one_or_none()
            if existing is not None:
                return CaseChange(convert.case(existing, phone), (), created=False)
            if line_id is None:
                line_id = await session.scalar(
                    select(MessageRow.line_id)
                    .where(MessageRow.contact_id == contact_id)
                    .order_by(MessageRow.sort_at.desc(), MessageRow.id.desc())
                    .limit(1)
                )
            row = CaseRow(
                contact_id=contact_id, line_id=line_id, status="open", agent_id=agent_id,
                address_status="pending", opened_at=now,
            )
            session.add(row)
            try:
                await session.flush()
            except sa_exc.IntegrityError as error:
                raise CaseAlreadyOpenError(contact_id, 0) from error
            events = await _cancel_pending(session, contact_id, row.id, now)
            await _attach_unrouted(session, contact_id, row.id)
            case = convert.case(row, phone)
            events.append(await append_event(
                session, "case.opened", case_event_data(case) | {"outbound": True}, now
            ))
            add_audit(session, user_id=agent_id, action="case.open", target=f"case:{row.id}",
                      details={"phone": phone}, now=now)
            return CaseChange(case, tuple(events), created=True)

    async def close_case(self, case_id: int, by: int, now: datetime) -> CaseChange:
        async with self._db.write() as session:
            row = await session.get(CaseRow, case_id)
            if row is None:
                raise NotFoundError("case", case_id)
            if row.status != "open":
                raise InvalidTransitionError("case", case_id, row.status, "closed")
            row.status = "closed"
            row.closed_at = now
            row.closed_by = by
            await session.flush()
            case = convert.case(row, await _phone(session, row.contact_id))
            event = await append_event(session, "case.closed",
                                       case_event_data(case) | {"closed_by": by}, now)
            add_audit(session, user_id=by, action="case.close", target=f"case:{case_id}",
                      details={}, now=now)
            return CaseChange(case, (event,))

    async def reassign_case(
        self, case_id: int, agent_id: int, by: int, now: datetime
    ) -> CaseChange:
        async with self._db.write() as session:
            row = await session.get(CaseRow, case_id)
            if row is None:
                raise NotFoundError("case", case_id)
            if await session.get(UserRow, agent_id) is None:
                raise NotFoundError("user", agent_id)
            previous = row.agent_id
            row.agent_id = agent_id
            await session.flush()
            case = convert.case(row, await _phone(session, row.contact_id))
            event = await append_event(
                session, "case.updated",
                case_event_data(case) | {"reason": "reassigned", "previous_agent_id": previous},
                now,
            )
            add_audit(session, user_id=by, action="case.reassign", target=f"case:{case_id}",
                      details={"from": previous, "to": agent_id}, now=now)
            return CaseChange(case, (event,))

    async def set_address(
        self, case_id: int, status: AddressStatus, address: str | None, now: datetime
    ) -> CaseChange:
        async with self._db.write() as session:
            row = await session.get(CaseRow, case_id)
            if row is None:
                raise NotFoundError("case", case_id)
            row.address_status = status
            row.address = address
            await session.flush()
            case = convert.case(row, await _phone(session, row.contact_id))
            event = await append_event(
                session, "case.updated", case_event_data(case) | {"reason": "address"}, now
            )
            return CaseChange(case, (event,))

    async def open_case_agents(self) -> dict[int, int | None]:
        async with self._db.read() as session:
            rows = await session.execute(
                select(CaseRow.id, CaseRow.agent_id).where(CaseRow.status == "open")
            )
            return {int(case_id): agent_id for case_id, agent_id in rows}

    async def case_agent(self, case_id: int) -> int | None:
        async with self._db.read() as session:
            value = await session.scalar(select(CaseRow.agent_id).where(CaseRow.id == case_id))
            return int(value) if value is not None else None

    async def open_case_counts(self) -> dict[int, int]:
        """Open cases per agent, for the supervisors' view of who holds what."""
        async with self._db.read() as session:
            rows = await session.execute(
                select(CaseRow.agent_id, func.count())
                .where(CaseRow.status == "open", CaseRow.agent_id.is_not(None))
                .group_by(CaseRow.agent_id)
            )
            return {int(agent): int(count) for agent, count in rows if agent is not None}
