"""An open case handed to the others: a text in the case of an agent who is away, or an agent
logging out who hands it back, rings as an SMS Chat Request naming the case, so whoever answers
continues that case (see answer_request)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from gateway.store import convert
from gateway.store.cases_repo_api import request_event_data
from gateway.store.database import Database
from gateway.store.domain import ChatRequest, Event
from gateway.store.events import append_event
from gateway.store.models import CaseRow, ContactRow, LineRow, MessageRow, RequestRow


async def raise_request_for_case(
    db: Database, case_id: int, message_id: int | None, now: datetime
) -> tuple[ChatRequest, tuple[Event, ...]] | None:
    """A pending request for the case's customer carrying `case_id` (with `message_id` as its
    preview, else the customer's latest text); None when the case is no longer open or the
    customer already has a pending request (it rings already)."""
    async with db.write() as session:
        case_row = await session.get(CaseRow, case_id)
        if case_row is None or case_row.status != "open":
            return None
        if message_id is None:
            message_id = await session.scalar(
                select(MessageRow.id)
                .where(MessageRow.contact_id == case_row.contact_id, MessageRow.direction == "in")
                .order_by(MessageRow.sort_at.desc(), MessageRow.id.desc())
                .limit(1)
            )
        message = await session.get(MessageRow, message_id) if message_id is not None else None
        line_id = case_row.line_id or (message.line_id if message is not None else None)
        if line_id is None:
            line_id = await session.scalar(select(LineRow.id).order_by(LineRow.id).limit(1))
        if line_id is None:
            return None
        pending = await session.scalar(
            select(RequestRow.id).where(
                RequestRow.contact_id == case_row.contact_id, RequestRow.status == "pending"
            )
        )
        if pending is not None:
            return None
        row = RequestRow(
            contact_id=case_row.contact_id, line_id=line_id,
            message_id=message_id, status="pending", overdue=False, created_at=now,
            case_id=case_id,
        )
        session.add(row)
        await session.flush()
        number = await session.scalar(
            select(ContactRow.number).where(ContactRow.id == case_row.contact_id)
        )
        request = convert.request(row, number or "")
        event = await append_event(
            session, "request.created",
            request_event_data(request) | {"message_id": message_id,
                                           "away_agent_id": case_row.agent_id},
            now,
        )
        return request, (event,)
