"""SMS Chat Requests: a text from a number with no open case waits here until an agent answers.

Answering is one conditional UPDATE, so of two agents answering at once exactly one wins.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.store import convert
from gateway.store.cases import case_data, open_case_in, reopen_case_in
from gateway.store.database import Database, utc_now
from gateway.store.domain import AnswerResult, ChatRequest, Event, RequestChange
from gateway.store.errors import ConflictError, NotFoundError, RequestAlreadyHandledError
from gateway.store.events import append_event
from gateway.store.models import CaseRow, ContactRow, RequestRow


def request_data(request: ChatRequest, **extra: Any) -> dict[str, Any]:
    return {
        "id": request.id, "contact_id": request.contact_id, "phone": request.phone,
        "line_id": request.line_id, "message_id": request.message_id, "status": request.status,
        "overdue": request.overdue, "created_at": request.created_at.isoformat(),
        "answered_at": request.answered_at.isoformat() if request.answered_at else None,
        "answered_by": request.answered_by, "case_id": request.case_id, **extra,
    }


async def _load(session: AsyncSession, request_id: int) -> ChatRequest:
    row = (
        await session.execute(
            select(RequestRow, ContactRow.number)
            .join(ContactRow, ContactRow.id == RequestRow.contact_id)
            .where(RequestRow.id == request_id)
            .execution_options(populate_existing=True)
        )
    ).first()
    if row is None:
        raise NotFoundError("request", request_id)
    return convert.request(row[0], row[1])


async def _pending_id(session: AsyncSession, contact_id: int) -> int | None:
    return await session.scalar(
        select(RequestRow.id).where(
            RequestRow.contact_id == contact_id, RequestRow.status == "pending"
        )
    )


class RequestRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create_request(
        self,
        contact_id: int,
        line_id: int,
        message_id: int | None,
        now: datetime | None = None,
    ) -> RequestChange:
        """A new pending request (request.created), or the contact's pending one when it already
        has one (created=False, no event): further texts join it instead of ringing again."""
        now = now or utc_now()
        try:
            async with self._db.write() as session:
                existing = await _pending_id(session, contact_id)
                if existing is not None:
                    return RequestChange(request=await _load(session, existing), event=None)
                row = RequestRow(
                    contact_id=contact_id, line_id=line_id, message_id=message_id,
                    status="pending", overdue=False, created_at=now,
                )
                session.add(row)
                await session.flush()
                request = await _load(session, row.id)
                event = await append_event(session, "request.created", request_data(request), now)
                return RequestChange(request=request, event=event, created=True)
        except IntegrityError:
            async with self._db.read() as session:
                existing = await _pending_id(session, contact_id)
                if existing is None:
                    raise
                return RequestChange(request=await _load(session, existing), event=None)

    async def answer_request(
        self,
        request_id: int,
        agent_id: int,
        *,
        continue_case_id: int | None = None,
        now: datetime | None = None,
    ) -> AnswerResult:
        """Answer for `agent_id`: opens a new case (or reopens `continue_case_id`, which must be
        a closed case of the same contact; an already open case of the contact is reused).
        Raises RequestAlreadyHandledError for every answer but the first."""
        try:
            return await self._answer(request_id, agent_id, continue_case_id, now or utc_now())
        except IntegrityError as error:
            # Someone opened a case for this contact at the same moment; nothing was committed.
            raise ConflictError(f"request {request_id}: the case changed meanwhile") from error

    async def _answer(
        self, request_id: int, agent_id: int, continue_case_id: int | None, now: datetime
    ) -> AnswerResult:
        async with self._db.write() as session:
            result = await session.execute(
                update(RequestRow)
                .where(RequestRow.id == request_id, RequestRow.status == "pending")
                .values(status="answered", answered_at=now, answered_by=agent_id)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                current = await _load(session, request_id)
                raise RequestAlreadyHandledError(request_id, current.status)
            request = await _load(session, request_id)
            events: list[Event] = []
            if continue_case_id is not None:
                owner = await session.scalar(
                    select(CaseRow.contact_id).where(CaseRow.id == continue_case_id)
                )
                if owner is None:
                    raise NotFoundError("case", continue_case_id)
                if owner != request.contact_id:
                    raise ConflictError(
                        f"case {continue_case_id} belongs to another phone number"
                    )
                case = await reopen_case_in(session, continue_case_id, agent_id, now)
                created = False
                events.append(
                    await append_event(session, "case.opened", case_data(case, continued=True),
                                       now)
                )
            else:
                case, created = await open_case_in(
                    session, request.contact_id, request.line_id, agent_id, now
                )
                if created:
                    events.append(await append_event(session, "case.opened", case_data(case), now))
            await session.execute(
                update(RequestRow).where(RequestRow.id == request_id).values(case_id=case.id)
            )
            request = await _load(session, request_id)
            events.insert(
                0, await append_event(session, "request.answered", request_data(request), now)
            )
            return AnswerResult(request=request, case=case, case_created=created,
                                events=tuple(events))

    async def cancel_request(self, request_id: int, now: datetime | None = None) -> RequestChange:
        now = now or utc_now()
        async with self._db.write() as session:
            result = await session.execute(
                update(RequestRow)
                .where(RequestRow.id == request_id, RequestRow.status == "pending")
                .values(status="cancelled")
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                current = await _load(session, request_id)
                raise RequestAlreadyHandledError(request_id, current.status)
            request = await _load(session, request_id)
            event = await append_event(session, "request.cancelled", request_data(request), now)
            return RequestChange(request=request, event=event)

    async def mark_overdue(
        self, created_before: datetime, now: datetime | None = None
    ) -> list[RequestChange]:
        """Flag pending requests waiting since before `created_before` (request.overdue, once)."""
        now = now or utc_now()
        async with self._db.write() as session:
            ids = list(
                await session.scalars(
                    select(RequestRow.id)
                    .where(
                        RequestRow.status == "pending",
                        RequestRow.overdue.is_(False),
                        RequestRow.created_at <= created_before,
                    )
                    .order_by(RequestRow.id)
                )
            )
            if not ids:
                return []
            await session.execute(
                update(RequestRow).where(RequestRow.id.in_(ids)).values(overdue=True)
            )
            changes = []
            for request_id in ids:
                request = await _load(session, request_id)
                event = await append_event(session, "request.overdue", request_data(request), now)
                changes.append(RequestChange(request=request, event=event))
            return changes

    async def get(self, request_id: int) -> ChatRequest:
        async with self._db.read() as session:
            return await _load(session, request_id)

    async def find_pending(self, contact_id: int) -> ChatRequest | None:
        async with self._db.read() as session:
            request_id = await _pending_id(session, contact_id)
            return await _load(session, request_id) if request_id is not None else None

    async def pending(self, limit: int = 200) -> list[ChatRequest]:
        """Oldest first: the order agents should answer in."""
        async with self._db.read() as session:
            rows = await session.execute(
                select(RequestRow, ContactRow.number)
                .join(ContactRow, ContactRow.id == RequestRow.contact_id)
                .where(RequestRow.status == "pending")
                .order_by(RequestRow.created_at, RequestRow.id)
                .limit(limit)
            )
            return [convert.request(row, phone) for row, phone in rows.all()]
