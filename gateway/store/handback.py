"""A text in the open case of an agent who is away: it rings as an SMS Chat Request for the
others, naming the case, so whoever answers continues that case (see answer_request)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from gateway.store import convert
from gateway.store.cases_repo_api import request_event_data
from gateway.store.database import Database
from gateway.store.domain import ChatRequest, Event
from gateway.store.events import append_event
from gateway.store.models import CaseRow, ContactRow, MessageRow, RequestRow


async def raise_request_for_case(
    db: Database, case_id: int, message_id: int, now: datetime
) -> tuple[ChatRequest, tuple[Event, ...]] | None:
    """A pending request for the case's customer carrying `case_id`; None when the case is no
    longer open or the customer already has a pending request (it rings already)."""
    async with db.write() as session:
        case_row = await session.get(CaseRow, case_id)
        message = await session.get(MessageRow, message_id)
        if case_row is None or case_row.status != "open" or message is None:
            return None
        pending = await session.scalar(
            select(RequestRow.id).where(
                RequestRow.contact_id == case_row.contact_id, RequestRow.status == "pending"
            )
        )
        if pending is not None:
            return None
        row = RequestRow(
            contact_id=case_row.contact_id, line_id=case_row.line_id or message.line_id,
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
