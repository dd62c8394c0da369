"""Retention: message text older than a cutoff is removed (counts, times, states and case
metadata stay), and a number can be forgotten entirely (its messages, notes, cases, requests
and contact record). Each is audited in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.store import tables
from gateway.store.accounts import add_audit
from gateway.store.database import Database
from gateway.store.errors import ConflictError, NotFoundError
from gateway.store.models import (
    CaseNoteRow,
    CaseRow,
    CaseTransferRow,
    ContactRow,
    EventRow,
    MessageRow,
    PartRow,
    RequestRow,
)

REMOVED = "text removed by the retention policy"
# Messages whose parts may still be sent or completed are never touched.
_UNFINISHED = ("receiving", "queued", "sending")


_SCRUB = (
    update(tables.events).where(tables.events.c.seq == bindparam("event_seq"))
    .values(data=bindparam("event_data"))
)


async def _scrub_events(
    session: AsyncSession, types: tuple[str, ...], keys: dict[str, Any], *,
    before: datetime | None = None, match: dict[str, Any] | None = None,
) -> int:
    """Sets `keys` in the data of the logged events of `types` (older than `before`, or whose
    data has one of `match`'s values); the event log keeps what changed, not what was said."""
    query = select(EventRow.seq, EventRow.data).where(
        or_(*(EventRow.type.like(f"{prefix}%") for prefix in types)))
    if before is not None:
        query = query.where(EventRow.created_at < before)
    changed = []
    for seq, data in (await session.execute(query)).all():
        if match is not None and not any(data.get(k) == v for k, v in match.items()):
            continue
        if any(k in data and data[k] != v for k, v in keys.items()):
            changed.append({"event_seq": seq, "event_data": {**data, **{
                k: v for k, v in keys.items() if k in data}}})
    for start in range(0, len(changed), 500):
        await session.execute(_SCRUB, changed[start:start + 500])
    return len(changed)


@dataclass(frozen=True, slots=True)
class Forgotten:
    contact_id: int
    messages: int
    notes: int
    cases: int


class RetentionRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def remove_text_before(self, cutoff: datetime, days: int, now: datetime) -> int:
        """Removes the text (and the PDUs that carry it) of messages older than `cutoff`;
        returns how many messages; one audit entry per run."""
        async with self._db.write() as session:
            old = (
                select(MessageRow.id)
                .where(MessageRow.sort_at < cutoff, MessageRow.status.not_in(_UNFINISHED),
                       MessageRow.placeholder_reason.is_distinct_from(REMOVED))
            )
            ids = list(await session.scalars(old))
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                await session.execute(
                    update(MessageRow).where(MessageRow.id.in_(chunk))
                    .values(text=None, is_text=False, placeholder_reason=REMOVED)
                )
                await session.execute(
                    update(PartRow).where(PartRow.message_id.in_(chunk))
                    .values(text=None, user_data=None, pdu="")
                )
            events = await _scrub_events(session, ("message.",), {"text": None},
                                         before=cutoff)
            details: dict[str, Any] = {"messages": len(ids), "events": events,
                                       "message_days": days, "cutoff": cutoff.isoformat()}
            add_audit(session, user_id=None, action="retention.run", target=None,
                      details=details, now=now)
            return len(ids)

    async def forget(
        self, number: str, by: str, now: datetime, user_id: int | None = None
    ) -> Forgotten:
        """Erases everything held about `number` (stored form); ConflictError while it has an
        open case. `by` names who asked; `user_id` is the console user who did it, if any."""
        async with self._db.write() as session:
            contact = await session.scalar(select(ContactRow).where(ContactRow.number == number))
            if contact is None:
                raise NotFoundError("contact", number)
            case_ids = list(await session.scalars(
                select(CaseRow.id).where(CaseRow.contact_id == contact.id)))
            if await session.scalar(select(CaseRow.id).where(
                    CaseRow.contact_id == contact.id, CaseRow.status == "open")) is not None:
                raise ConflictError(f"{number} has an open case; close it first")
            message_ids = list(await session.scalars(
                select(MessageRow.id).where(MessageRow.contact_id == contact.id)))
            notes = len(list(await session.scalars(
                select(CaseNoteRow.id).where(CaseNoteRow.case_id.in_(case_ids)))))
            await session.execute(delete(CaseTransferRow).where(
                CaseTransferRow.case_id.in_(case_ids)))
            await session.execute(delete(RequestRow).where(RequestRow.contact_id == contact.id))
            await session.execute(delete(CaseNoteRow).where(CaseNoteRow.case_id.in_(case_ids)))
            await session.execute(delete(PartRow).where(PartRow.message_id.in_(message_ids)))
            await session.execute(delete(MessageRow).where(MessageRow.id.in_(message_ids)))
            await session.execute(delete(CaseRow).where(CaseRow.id.in_(case_ids)))
            await session.execute(delete(ContactRow).where(ContactRow.id == contact.id))
            await _scrub_events(session, ("message.", "request.", "case."),
                                {"text": None, "phone": None, "preview": None},
                                match={"contact_id": contact.id, "phone": number})
            forgotten = Forgotten(contact.id, len(message_ids), notes, len(case_ids))
            # The number itself is not kept: only its last digits, to tell requests apart.
            add_audit(session, user_id=user_id, action="contact.forget",
                      target=f"contact:{contact.id}", details={
                          "by": by, "number_ends": number[-2:], "messages": forgotten.messages,
                          "notes": notes, "cases": forgotten.cases}, now=now)
            return forgotten
