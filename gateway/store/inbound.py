"""Inbound parts: stored exactly once, reassembled in the database so it survives restarts.

A message row exists from its first part; it is shown (message.created) when all parts are in,
or when the release timeout passes with a visible marker per missing part, and is then completed
in place by any late part (message.updated).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.store import convert
from gateway.store.contacts import ensure_contact, sender_number
from gateway.store.database import Database, utc_now
from gateway.store.domain import Event, InboundPart, InboundResult, Message
from gateway.store.events import append_event
from gateway.store.messages import load_messages
from gateway.store.models import MessageRow, PartRow

DEFAULT_PARTIAL_RELEASE_S = 60.0
# Parts of one message carry nearly the same SCTS; refs wrap, so only parts this close group.
DEFAULT_CONCAT_WINDOW_S = 3600.0
MISSING_PART_MARKER = "[part {seq} of {total} missing]"


def pdu_hash(pdu: str) -> str:
    return hashlib.sha256(pdu.strip().upper().encode("ascii", "replace")).hexdigest()


def dedupe_key(part: InboundPart, sender: str, hashed_pdu: str) -> str:
    concat = part.concat
    fields = (
        sender,
        part.scts.isoformat() if part.scts is not None else "",
        str(concat.ref) if concat else "",
        str(concat.ref_bits) if concat else "",
        str(concat.total) if concat else "",
        str(concat.seq) if concat else "",
        hashed_pdu,
    )
    return hashlib.sha256("\x1f".join(fields).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class _Assembled:
    text: str | None
    is_text: bool
    placeholder_reason: str | None
    missing: tuple[int, ...]


def _is_text(part: PartRow) -> bool:
    # A UCS2 part may end in half a character, so its own text can be missing; its bytes count.
    return part.text is not None or (part.encoding == "ucs2" and bool(part.user_data))


def assemble(parts: Sequence[PartRow], total: int) -> _Assembled:
    """Join parts in seq order; UCS2 runs are joined as bytes first, so a character split
    across two parts (a surrogate pair) comes out whole."""
    by_seq = {p.seq: p for p in parts}
    missing = tuple(seq for seq in range(1, total + 1) if seq not in by_seq)
    non_text = [p for p in parts if not _is_text(p)]
    if non_text:
        first = min(non_text, key=lambda p: p.seq)
        return _Assembled(None, False, first.placeholder_reason or "not text", missing)
    pieces: list[str] = []
    run: list[PartRow] = []

    def flush() -> None:
        if not run:
            return
        if all(p.encoding == "ucs2" and p.user_data is not None for p in run):
            data = b"".join(p.user_data or b"" for p in run)
            pieces.append(data.decode("utf-16-be", errors="replace"))
        else:
            pieces.append("".join(p.text or "" for p in run))
        run.clear()

    for seq in range(1, total + 1):
        if seq in by_seq:
            run.append(by_seq[seq])
        else:
            flush()
            pieces.append(MISSING_PART_MARKER.format(seq=seq, total=total))
    flush()
    return _Assembled("".join(pieces), True, None, missing)


class InboundRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def record_inbound(
        self,
        line_id: int,
        parts: Sequence[InboundPart],
        now: datetime | None = None,
        concat_window_s: float = DEFAULT_CONCAT_WINDOW_S,
    ) -> InboundResult:
        """Commit parts read from a modem in one transaction. When this returns, every part is
        durable (new or already there) and the modem copies may be deleted."""
        now = now or utc_now()
        window = timedelta(seconds=concat_window_s)
        new_parts = duplicates = 0
        async with self._db.line_lock(line_id), self._db.write() as session:
            touched: dict[int, MessageRow] = {}
            shown_before: dict[int, bool] = {}
            for part in parts:
                message = await self._store_part(session, line_id, part, now, window)
                if message is None:
                    duplicates += 1
                    continue
                new_parts += 1
                if message.id not in touched:
                    touched[message.id] = message
                    shown_before[message.id] = message.status == "received"
            events: list[Event] = []
            for message in touched.values():
                await self._rebuild(session, message, released=message.released_at is not None)
            await session.flush()
            loaded = await load_messages(session, touched)
            for mid, message in touched.items():
                if message.status != "received":
                    continue
                kind = "message.updated" if shown_before[mid] else "message.created"
                events.append(
                    await append_event(session, kind, convert.message_data(loaded[mid]), now)
                )
            return InboundResult(
                new_parts=new_parts,
                duplicate_parts=duplicates,
                messages=tuple(loaded.values()),
                events=tuple(events),
            )

    async def _store_part(
        self,
        session: AsyncSession,
        line_id: int,
        part: InboundPart,
        now: datetime,
        window: timedelta,
    ) -> MessageRow | None:
        region = self._db.settings.default_region
        sender = sender_number(part.sender, region) if part.sender else ""
        hashed = pdu_hash(part.pdu)
        key = dedupe_key(part, sender, hashed)
        if await session.scalar(
            select(PartRow.id).where(PartRow.line_id == line_id, PartRow.dedupe_key == key)
        ):
            return None
        contact_id = (await ensure_contact(session, sender, now)).id if sender else None
        concat = part.concat if part.concat is not None and part.concat.total > 1 else None
        message = None
        if concat is not None and part.scts is not None:
            message = await session.scalar(
                select(MessageRow)
                .where(
                    MessageRow.line_id == line_id,
                    MessageRow.contact_id == contact_id,
                    MessageRow.direction == "in",
                    MessageRow.concat_ref == concat.ref,
                    MessageRow.concat_ref_bits == concat.ref_bits,
                    MessageRow.parts_total == concat.total,
                    MessageRow.complete.is_(False),
                    MessageRow.scts >= part.scts - window,
                    MessageRow.scts <= part.scts + window,
                    ~exists().where(PartRow.message_id == MessageRow.id, PartRow.seq == concat.seq),
                )
                .order_by(MessageRow.id)
                .limit(1)
            )
        created = message is None
        # Shown by the earliest part's SCTS, whichever part arrived first.
        if message is not None and part.scts and message.scts and part.scts < message.scts:
            message.scts = message.sort_at = part.scts
        if message is None:
            message = MessageRow(
                direction="in", line_id=line_id, contact_id=contact_id, encoding=part.encoding,
                status="receiving", is_text=part.text is not None,
                placeholder_reason=part.placeholder_reason,
                parts_total=concat.total if concat else 1, parts_received=0, complete=False,
                concat_ref=concat.ref if concat else None,
                concat_ref_bits=concat.ref_bits if concat else None,
                scts=part.scts, received_at=now, sort_at=part.scts or now,
            )
            session.add(message)
            await session.flush()
        insert = postgresql.insert if self._db.dialect == "postgresql" else sqlite.insert
        part_id = await session.scalar(
            insert(PartRow)
            .values(
                message_id=message.id, line_id=line_id, seq=concat.seq if concat else 1,
                total=concat.total if concat else 1, concat_ref=concat.ref if concat else None,
                ref_bits=concat.ref_bits if concat else None, pdu=part.pdu,
                user_data=part.user_data, text=part.text, encoding=part.encoding,
                placeholder_reason=part.placeholder_reason, status="received", attempts=0,
                pdu_hash=hashed, dedupe_key=key, created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["line_id", "dedupe_key"])
            .returning(PartRow.id)
        )
        if part_id is None:  # another process stored it between our check and insert
            if created:
                await session.execute(delete(MessageRow).where(MessageRow.id == message.id))
            return None
        return message

    async def _rebuild(self, session: AsyncSession, message: MessageRow, released: bool) -> None:
        parts = list(
            await session.scalars(select(PartRow).where(PartRow.message_id == message.id))
        )
        assembled = assemble(parts, message.parts_total)
        message.parts_received = len(parts)
        message.complete = not assembled.missing
        message.text = assembled.text
        message.is_text = assembled.is_text
        message.placeholder_reason = assembled.placeholder_reason
        message.missing_parts = ",".join(map(str, assembled.missing)) or None
        if message.complete or released:
            message.status = "received"

    async def release_overdue_partials(
        self, now: datetime | None = None, timeout_s: float = DEFAULT_PARTIAL_RELEASE_S
    ) -> tuple[list[Message], list[Event]]:
        """Show messages whose parts have been missing for `timeout_s` since the first arrived,
        with a marker for each missing part; a late part later completes them in place."""
        now = now or utc_now()
        cutoff = now - timedelta(seconds=timeout_s)
        async with self._db.write() as session:
            rows = list(
                await session.scalars(
                    select(MessageRow)
                    .where(
                        MessageRow.status == "receiving",
                        MessageRow.direction == "in",
                        MessageRow.received_at <= cutoff,
                    )
                    .order_by(MessageRow.id)
                )
            )
            for row in rows:
                row.released_at = now
                await self._rebuild(session, row, released=True)
            await session.flush()
            loaded = await load_messages(session, [row.id for row in rows])
            events = [
                await append_event(session, "message.created", convert.message_data(m), now)
                for m in loaded.values()
            ]
            return list(loaded.values()), events

    async def next_partial_deadline(
        self, timeout_s: float = DEFAULT_PARTIAL_RELEASE_S
    ) -> datetime | None:
        """When the oldest incomplete message is due for release, so the caller can sleep."""
        async with self._db.read() as session:
            oldest = await session.scalar(
                select(func.min(MessageRow.received_at)).where(
                    MessageRow.status == "receiving", MessageRow.direction == "in"
                )
            )
            return oldest + timedelta(seconds=timeout_s) if oldest is not None else None
