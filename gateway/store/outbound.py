"""Outbound messages: committed as queued before any AT command, then tracked part by part.

Part status: queued -> sending -> sent (TP-MR) -> delivered | failed | expired. A part found in
`sending` at start becomes `unknown` and is shown, never resent silently.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.sms.model import EncodedMessage
from gateway.store import convert
from gateway.store.contacts import ensure_contact, normalise_number, sender_number
from gateway.store.database import Database, utc_now
from gateway.store.domain import (
    FINAL_PART_STATUSES,
    Message,
    Part,
    PartStatus,
    PartUpdate,
    QueueResult,
)
from gateway.store.errors import InvalidTransitionError, NotFoundError, StoreError
from gateway.store.events import append_event
from gateway.store.messages import load_message
from gateway.store.models import ContactRow, MessageRow, PartRow

DEFAULT_REPORT_WINDOW_S = 3 * 24 * 3600.0  # status reports can lag by days when a phone is off
UNKNOWN_AFTER_RESTART = "the daemon stopped while this part was being sent; not resent"


def message_status(statuses: Collection[str]) -> str:
    """A message's status from its parts' statuses."""
    found = set(statuses)
    for final in ("failed", "expired", "unknown"):
        if final in found:
            return final
    if found == {"delivered"}:
        return "delivered"
    if found <= {"sent", "delivered"}:
        return "sent"
    if found == {"queued"}:
        return "queued"
    return "sending"


class OutboundRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def queue_outbound(
        self,
        *,
        line_id: int,
        to: str,
        text: str,
        encoded: EncodedMessage,
        client_id: str | None = None,
        case_id: int | None = None,
        created_by: int | None = None,
        now: datetime | None = None,
    ) -> QueueResult:
        """Commit a message and its parts as queued. The same `client_id` again returns the
        existing message (created=False) and never makes a second one."""
        if not encoded.parts:
            raise StoreError("an outbound message needs at least one part")
        number = normalise_number(to, self._db.settings.default_region)
        now = now or utc_now()
        if client_id is not None:
            existing = await self._by_client_id(client_id)
            if existing is not None:
                return existing
        try:
            async with self._db.write() as session:
                contact = await ensure_contact(session, number, now)
                row = MessageRow(
                    direction="out", line_id=line_id, contact_id=contact.id, text=text,
                    encoding=encoded.encoding, status="queued", is_text=True,
                    parts_total=len(encoded.parts), parts_received=0, complete=True,
                    queued_at=now, sort_at=now, client_id=client_id, case_id=case_id,
                    created_by=created_by,
                )
                session.add(row)
                await session.flush()
                total = len(encoded.parts)
                for seq, part in enumerate(encoded.parts, start=1):
                    session.add(
                        PartRow(
                            message_id=row.id, line_id=line_id, seq=seq, total=total,
                            concat_ref=part.concat.ref if part.concat else None,
                            ref_bits=part.concat.ref_bits if part.concat else None,
                            pdu=part.pdu, tpdu_length=part.tpdu_length, text=part.text,
                            encoding=encoded.encoding, status="queued", attempts=0,
                            pdu_hash=hashlib.sha256(part.pdu.upper().encode()).hexdigest(),
                            created_at=now,
                        )
                    )
                await session.flush()
                message = await load_message(session, row.id)
                event = await append_event(
                    session, "message.created", convert.message_data(message), now
                )
                return QueueResult(message=message, created=True, events=(event,))
        except IntegrityError:
            # Two requests with one client_id raced; the other committed first.
            existing = await self._by_client_id(client_id) if client_id is not None else None
            if existing is None:
                raise
            return existing

    async def _by_client_id(self, client_id: str) -> QueueResult | None:
        async with self._db.read() as session:
            mid = await session.scalar(
                select(MessageRow.id).where(MessageRow.client_id == client_id)
            )
            if mid is None:
                return None
            return QueueResult(message=await load_message(session, mid), created=False, events=())

    async def due_parts(
        self, line_id: int, now: datetime | None = None, limit: int = 100
    ) -> list[Part]:
        """Queued parts of a line whose (re)try time has come, oldest message first."""
        now = now or utc_now()
        async with self._db.read() as session:
            rows = await session.scalars(
                select(PartRow)
                .where(
                    PartRow.line_id == line_id,
                    PartRow.status == "queued",
                    or_(PartRow.next_attempt_at.is_(None), PartRow.next_attempt_at <= now),
                )
                .order_by(PartRow.message_id, PartRow.seq)
                .limit(limit)
            )
            return [convert.part(row) for row in rows]

    async def next_retry_at(self, line_id: int) -> datetime | None:
        async with self._db.read() as session:
            value: datetime | None = await session.scalar(
                select(func.min(PartRow.next_attempt_at)).where(
                    PartRow.line_id == line_id, PartRow.status == "queued"
                )
            )
            return value

    async def queue_depth(self, line_id: int) -> int:
        """Parts waiting to go out on the line (queued or being sent)."""
        async with self._db.read() as session:
            count = await session.scalar(
                select(func.count()).where(
                    PartRow.line_id == line_id, PartRow.status.in_(("queued", "sending"))
                )
            )
            return int(count or 0)

    async def mark_part_sending(self, part_id: int, now: datetime | None = None) -> PartUpdate:
        now = now or utc_now()
        return await self._transition(
            part_id, ("queued",), "sending", now,
            {"sending_at": now, "attempts": PartRow.attempts + 1},
        )

    async def mark_part_sent(
        self, part_id: int, tp_mr: int, now: datetime | None = None
    ) -> PartUpdate:
        now = now or utc_now()
        return await self._transition(
            part_id, ("sending",), "sent", now, {"tp_mr": tp_mr, "sent_at": now},
        )

    async def mark_part_retry(
        self, part_id: int, error: str, next_attempt_at: datetime, now: datetime | None = None
    ) -> PartUpdate:
        """A retryable failure: back to queued, not before `next_attempt_at`."""
        return await self._transition(
            part_id, ("sending",), "queued", now or utc_now(),
            {"last_error": error, "next_attempt_at": next_attempt_at},
        )

    async def mark_part_failed(
        self, part_id: int, error: str, now: datetime | None = None
    ) -> PartUpdate:
        """A definite failure, or retries exhausted."""
        now = now or utc_now()
        return await self._transition(
            part_id, ("queued", "sending", "sent", "unknown"), "failed", now,
            {"last_error": error, "done_at": now},
        )

    async def requeue_part(self, part_id: int, now: datetime | None = None) -> PartUpdate:
        """Send a failed or unknown part again: only ever on a person's explicit decision."""
        return await self._transition(
            part_id, ("failed", "unknown", "expired"), "queued", now or utc_now(),
            {"next_attempt_at": None, "done_at": None},
        )

    async def apply_status_report(
        self,
        line_id: int,
        tp_mr: int,
        recipient: str,
        status: PartStatus,
        now: datetime | None = None,
        error: str | None = None,
        window_s: float = DEFAULT_REPORT_WINDOW_S,
    ) -> PartUpdate | None:
        """Match a status report to the newest sent part with this line, TP-MR and recipient
        sent within the window; None when nothing matches (a stale or foreign report)."""
        if status not in FINAL_PART_STATUSES:
            raise ValueError(f"a status report sets a final status, not {status!r}")
        now = now or utc_now()
        number = sender_number(recipient, self._db.settings.default_region)
        async with self._db.write() as session:
            part_id = await session.scalar(
                select(PartRow.id)
                .join(MessageRow, MessageRow.id == PartRow.message_id)
                .join(ContactRow, ContactRow.id == MessageRow.contact_id)
                .where(
                    PartRow.line_id == line_id,
                    PartRow.tp_mr == tp_mr,
                    PartRow.status == "sent",
                    PartRow.sent_at >= now - timedelta(seconds=window_s),
                    ContactRow.number == number,
                )
                .order_by(PartRow.sent_at.desc(), PartRow.id.desc())
                .limit(1)
            )
            if part_id is None:
                return None
            values: dict[str, Any] = {"done_at": now}
            if error is not None:
                values["last_error"] = error
            return await self._apply(session, part_id, ("sent",), status, now, values)

    async def mark_part_unknown(
        self, part_id: int, error: str, now: datetime | None = None
    ) -> PartUpdate:
        """The PDU went to the modem but was never confirmed: it may or may not have been sent,
        so it is shown as unknown and only a person may decide to send it again."""
        now = now or utc_now()
        return await self._transition(
            part_id, ("sending",), "unknown", now, {"last_error": error, "done_at": now}
        )

    async def mark_sending_as_unknown_on_start(
        self, now: datetime | None = None
    ) -> list[PartUpdate]:
        """Parts left in `sending` by a crash: the modem may or may not have sent them."""
        now = now or utc_now()
        async with self._db.write() as session:
            ids = list(
                await session.scalars(
                    select(PartRow.id).where(PartRow.status == "sending").order_by(PartRow.id)
                )
            )
            return [
                await self._apply(
                    session, pid, ("sending",), "unknown", now,
                    {"last_error": UNKNOWN_AFTER_RESTART},
                )
                for pid in ids
            ]

    async def _transition(
        self,
        part_id: int,
        allowed: Sequence[str],
        status: str,
        now: datetime,
        values: dict[str, Any],
    ) -> PartUpdate:
        async with self._db.write() as session:
            return await self._apply(session, part_id, allowed, status, now, values)

    async def _apply(
        self,
        session: AsyncSession,
        part_id: int,
        allowed: Sequence[str],
        status: str,
        now: datetime,
        values: dict[str, Any],
    ) -> PartUpdate:
        # Conditional on the current status, so two writers cannot both move one part.
        moved = await session.scalar(
            update(PartRow)
            .where(PartRow.id == part_id, PartRow.status.in_(allowed))
            .values(status=status, **values)
            .returning(PartRow.message_id)
            .execution_options(synchronize_session=False)
        )
        if moved is None:
            current = await session.scalar(select(PartRow.status).where(PartRow.id == part_id))
            if current is None:
                raise NotFoundError("part", part_id)
            raise InvalidTransitionError("part", part_id, current, status)
        parts = list(
            await session.scalars(
                select(PartRow)
                .where(PartRow.message_id == moved)
                .order_by(PartRow.seq)
                .execution_options(populate_existing=True)
            )
        )
        row = (
            await session.execute(
                select(MessageRow, ContactRow.number)
                .outerjoin(ContactRow, ContactRow.id == MessageRow.contact_id)
                .where(MessageRow.id == moved)
            )
        ).one()
        message, phone = row[0], row[1]
        message.status = message_status([p.status for p in parts])
        if status in {"failed", "expired", "unknown"} or "last_error" in values:
            message.error = values.get("last_error", message.error)
        if message.status in {"sent", "delivered"} and message.sent_at is None:
            message.sent_at = now
        if message.status == "delivered" and message.delivered_at is None:
            message.delivered_at = now
        await session.flush()
        part = next(p for p in parts if p.id == part_id)
        loaded = convert.message(message, phone, parts)
        event = await append_event(session, "message.status", _status_data(loaded, part), now)
        return PartUpdate(part=convert.part(part), message=loaded, event=event)


def _status_data(message: Message, part: PartRow) -> dict[str, Any]:
    return {
        "message_id": message.id, "part_id": part.id, "seq": part.seq, "total": part.total,
        "status": part.status, "tp_mr": part.tp_mr, "attempts": part.attempts,
        "error": part.last_error, "message_status": message.status, "line_id": part.line_id,
        "phone": message.phone, "case_id": message.case_id,
        "parts": {s: sum(1 for p in message.parts if p.status == s)
                  for s in sorted({p.status for p in message.parts})},
    }

