"""Transfers: an agent offers an open case to a colleague, or back to the queue as a request.

Until the offer is accepted the case stays with the agent who made it, and every text the
customer sends meanwhile is filed in the case as usual. Each change appends its events and an
audit entry in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.store.accounts import add_audit
from gateway.store.database import Database
from gateway.store.domain import Event
from gateway.store.errors import (
    ConflictError,
    InvalidTransitionError,
    NotFoundError,
    RequestAlreadyHandledError,
)
from gateway.store.events import append_event
from gateway.store.models import (
    CaseNoteRow,
    CaseRow,
    CaseTransferRow,
    ContactRow,
    LineRow,
    MessageRow,
    RequestRow,
)


@dataclass(frozen=True, slots=True)
class Transfer:
    id: int
    case_id: int
    from_agent_id: int | None
    to_agent_id: int | None  # None: back to the queue
    request_id: int | None  # the queue's request, for a transfer to the queue
    note: str | None
    status: str  # pending, accepted, declined, cancelled
    created_at: datetime
    answered_at: datetime | None


@dataclass(frozen=True, slots=True)
class TransferChange:
    transfer: Transfer
    events: tuple[Event, ...]


def _transfer(row: CaseTransferRow) -> Transfer:
    return Transfer(
        id=row.id, case_id=row.case_id, from_agent_id=row.from_agent_id,
        to_agent_id=row.to_agent_id, request_id=row.request_id, note=row.note, status=row.status,
        created_at=row.created_at, answered_at=row.answered_at,
    )


async def _case_data(session: AsyncSession, case: CaseRow) -> dict[str, Any]:
    phone = await session.scalar(select(ContactRow.number).where(ContactRow.id == case.contact_id))
    return {"case_id": case.id, "agent_id": case.agent_id, "phone": phone,
            "status": case.status, "line_id": case.line_id}


async def _open_case(session: AsyncSession, case_id: int) -> CaseRow:
    case = await session.get(CaseRow, case_id)
    if case is None:
        raise NotFoundError("case", case_id)
    if case.status != "open":
        raise InvalidTransitionError("case", case_id, case.status, "transferred")
    return case


async def _pending(session: AsyncSession, case_id: int) -> CaseTransferRow | None:
    return await session.scalar(select(CaseTransferRow).where(
        CaseTransferRow.case_id == case_id, CaseTransferRow.status == "pending"))


async def _queue_request(session: AsyncSession, case: CaseRow, now: datetime) -> RequestRow:
    """A pending request for the case's number that, answered, takes the case over."""
    message_id = await session.scalar(
        select(MessageRow.id).where(MessageRow.case_id == case.id, MessageRow.direction == "in")
        .order_by(MessageRow.sort_at.desc(), MessageRow.id.desc()).limit(1))
    line_id = case.line_id or await session.scalar(select(LineRow.id).order_by(LineRow.id))
    if line_id is None:
        raise ConflictError("no line to queue the case on")
    row = RequestRow(contact_id=case.contact_id, line_id=line_id, message_id=message_id,
                     status="pending", overdue=False, created_at=now, case_id=case.id)
    session.add(row)
    try:
        await session.flush()
    except sa_exc.IntegrityError as error:
        raise ConflictError(f"case {case.id}'s number already has a waiting request") from error
    return row


class TransferRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def offer(
        self, case_id: int, by: int, *, to_agent_id: int | None, note: str | None,
        timeline_text: str, now: datetime,
    ) -> TransferChange:
        """Offer the case to `to_agent_id`, or (None) to the queue as a new request. The
        timeline gets `timeline_text` as a note."""
        async with self._db.write() as session:
            case = await _open_case(session, case_id)
            if await _pending(session, case_id) is not None:
                raise ConflictError(f"case {case_id} already has a transfer waiting")
            request = await _queue_request(session, case, now) if to_agent_id is None else None
            row = CaseTransferRow(
                case_id=case_id, from_agent_id=case.agent_id, to_agent_id=to_agent_id,
                request_id=request.id if request is not None else None, note=note,
                status="pending", created_at=now,
            )
            session.add(row)
            session.add(CaseNoteRow(case_id=case_id, author_id=by, text=timeline_text,
                                    created_at=now))
            try:
                await session.flush()
            except sa_exc.IntegrityError as error:
                raise ConflictError(f"case {case_id} already has a transfer waiting") from error
            data = await _case_data(session, case)
            events = [await append_event(session, "case.transfer", data | {
                "transfer_id": row.id, "offered_to": to_agent_id, "from_agent_id": case.agent_id,
                "queue": to_agent_id is None, "note": note, "request_id": row.request_id,
            }, now)]
            if request is not None:
                events.append(await append_event(session, "request.created", {
                    "request_id": request.id, "phone": data["phone"], "line_id": request.line_id,
                    "status": "pending", "case_id": case_id, "agent_id": None,
                    "message_id": request.message_id, "transfer_id": row.id,
                }, now))
            add_audit(session, user_id=by, action="case.transfer", target=f"case:{case_id}",
                      details={"to": to_agent_id, "queue": to_agent_id is None,
                               "transfer_id": row.id}, now=now)
            return TransferChange(_transfer(row), tuple(events))

    async def pending_for_case(self, case_id: int) -> Transfer | None:
        async with self._db.read() as session:
            row = await _pending(session, case_id)
            return _transfer(row) if row is not None else None

    async def pending_for_request(self, request_id: int) -> Transfer | None:
        async with self._db.read() as session:
            row = await session.scalar(select(CaseTransferRow).where(
                CaseTransferRow.request_id == request_id, CaseTransferRow.status == "pending"))
            return _transfer(row) if row is not None else None

    async def pending_for_agent(self, agent_id: int) -> list[Transfer]:
        async with self._db.read() as session:
            rows = await session.scalars(select(CaseTransferRow).where(
                CaseTransferRow.to_agent_id == agent_id, CaseTransferRow.status == "pending",
            ).order_by(CaseTransferRow.id))
            return [_transfer(row) for row in rows]

    async def accept(
        self, transfer_id: int, agent_id: int, now: datetime, *, request_id: int | None = None
    ) -> TransferChange:
        """The case becomes `agent_id`'s. With `request_id` (a transfer to the queue) the
        request is answered too; a second agent gets RequestAlreadyHandledError."""
        async with self._db.write() as session:
            row = await session.get(CaseTransferRow, transfer_id)
            if row is None or row.status != "pending":
                raise NotFoundError("transfer", transfer_id)
            events: list[Event] = []
            if request_id is not None:
                won = await session.execute(
                    update(RequestRow)
                    .where(RequestRow.id == request_id, RequestRow.status == "pending")
                    .values(status="answered", answered_by=agent_id, answered_at=now))
                if getattr(won, "rowcount", 0) != 1:
                    raise RequestAlreadyHandledError(request_id, "answered")
            case = await _open_case(session, row.case_id)
            previous = case.agent_id
            case.agent_id = agent_id
            row.status, row.answered_at, row.to_agent_id = "accepted", now, agent_id
            await session.flush()
            data = await _case_data(session, case)
            if request_id is not None:
                events.append(await append_event(session, "request.answered", {
                    "request_id": request_id, "phone": data["phone"], "line_id": case.line_id,
                    "status": "answered", "case_id": case.id, "agent_id": agent_id,
                }, now))
            events.append(await append_event(session, "case.updated", data | {
                "reason": "transferred", "previous_agent_id": previous, "transfer_id": row.id,
            }, now))
            add_audit(session, user_id=agent_id, action="case.transfer.accept",
                      target=f"case:{case.id}", details={"from": previous, "transfer_id": row.id},
                      now=now)
            return TransferChange(_transfer(row), tuple(events))

    async def decline(self, transfer_id: int, agent_id: int, now: datetime) -> TransferChange:
        async with self._db.write() as session:
            row = await session.get(CaseTransferRow, transfer_id)
            if row is None or row.status != "pending":
                raise NotFoundError("transfer", transfer_id)
            row.status, row.answered_at = "declined", now
            case = await session.get(CaseRow, row.case_id)
            assert case is not None
            await session.flush()
            event = await append_event(session, "case.transfer_declined", (
                await _case_data(session, case)) | {"transfer_id": row.id, "declined_by": agent_id},
                now)
            add_audit(session, user_id=agent_id, action="case.transfer.decline",
                      target=f"case:{case.id}", details={"transfer_id": row.id}, now=now)
            return TransferChange(_transfer(row), (event,))

    async def cancel_for_case(self, case_id: int, now: datetime) -> list[Event]:
        """A closed case's waiting transfer ends, and its queue request stops ringing."""
        async with self._db.write() as session:
            row = await _pending(session, case_id)
            if row is None:
                return []
            row.status, row.answered_at = "cancelled", now
            events: list[Event] = []
            if row.request_id is not None:
                request = await session.get(RequestRow, row.request_id)
                if request is not None and request.status == "pending":
                    request.status = "cancelled"
                    await session.flush()
                    events.append(await append_event(session, "request.cancelled", {
                        "request_id": request.id, "case_id": case_id, "status": "cancelled",
                        "line_id": request.line_id, "agent_id": None,
                    }, now))
            await session.flush()
            return events
