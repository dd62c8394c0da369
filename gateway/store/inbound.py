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

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.store import convert
from gateway.store.contacts import ensure_contacts, sender_number
from gateway.store.database import Database, utc_now
from gateway.store.domain import Event, InboundPart, InboundResult, Message
from gateway.store.events import append_events
from gateway.store.messages import load_messages
from gateway.store.models import MessageRow, PartRow

DEFAULT_PARTIAL_RELEASE_S = 60.0
_RACE_RETRIES = 3
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


@dataclass(frozen=True, slots=True)
class _Prepared:
    part: InboundPart
    sender: str
    hashed: str
    key: str


def _is_multipart(part: InboundPart) -> bool:
    return part.concat is not None and part.concat.total > 1 and part.scts is not None


def _part_row(line_id: int, item: _Prepared, now: datetime, message_id: int | None) -> PartRow:
    part = item.part
    concat = part.concat if _is_multipart(part) else None
    row = PartRow(
        line_id=line_id, seq=concat.seq if concat else 1, total=concat.total if concat else 1,
        concat_ref=concat.ref if concat else None, ref_bits=concat.ref_bits if concat else None,
        pdu=part.pdu, tpdu_length=None, user_data=part.user_data, text=part.text,
        encoding=part.encoding, placeholder_reason=part.placeholder_reason, status="received",
        tp_mr=None, attempts=0, next_attempt_at=None, last_error=None, pdu_hash=item.hashed,
        dedupe_key=item.key, created_at=now, sending_at=None, sent_at=None, done_at=None,
    )
    if message_id is not None:
        row.message_id = message_id
    return row


def _rebuild(message: MessageRow, parts: Sequence[PartRow], released: bool) -> None:
    assembled = assemble(parts, message.parts_total)
    message.parts_received = len(parts)
    message.complete = not assembled.missing
    message.text = assembled.text
    message.is_text = assembled.is_text
    message.placeholder_reason = assembled.placeholder_reason
    message.missing_parts = ",".join(map(str, assembled.missing)) or None
    if message.complete or released:
        message.status = "received"


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
        durable (new or already there) and the modem copies may be deleted. Batches are much
        cheaper per part than single calls."""
        now = now or utc_now()
        window = timedelta(seconds=concat_window_s)
        region = self._db.settings.default_region
        prepared = []
        for part in parts:
            sender = sender_number(part.sender, region) if part.sender else ""
            hashed = pdu_hash(part.pdu)
            prepared.append(_Prepared(part, sender, hashed, dedupe_key(part, sender, hashed)))
        async with self._db.line_lock(line_id):
            for attempt in range(_RACE_RETRIES):
                try:
                    async with self._db.write() as session:
                        return await self._record(session, line_id, prepared, now, window)
                except IntegrityError:
                    # Another process stored one of these parts meanwhile; nothing of ours was
                    # committed, and the next attempt sees it as a duplicate.
                    if attempt == _RACE_RETRIES - 1:
                        raise
        raise AssertionError("unreachable")

    async def _record(
        self,
        session: AsyncSession,
        line_id: int,
        prepared: Sequence[_Prepared],
        now: datetime,
        window: timedelta,
    ) -> InboundResult:
        keys = {item.key for item in prepared}
        seen = set(
            await session.scalars(
                select(PartRow.dedupe_key).where(
                    PartRow.line_id == line_id, PartRow.dedupe_key.in_(keys)
                )
            )
        )
        fresh: list[_Prepared] = []
        for item in prepared:
            if item.key not in seen:
                seen.add(item.key)
                fresh.append(item)
        contacts = await ensure_contacts(session, {i.sender for i in fresh if i.sender}, now)
        touched: dict[int, MessageRow] = {}
        shown_before: dict[int, bool] = {}
        part_rows: dict[int, list[PartRow]] = {}

        singles = [i for i in fresh if not _is_multipart(i.part)]
        single_messages = [self._single_message(line_id, i, contacts, now) for i in singles]
        session.add_all(message for message, _ in single_messages)
        await session.flush()
        for message, part_row in single_messages:
            part_row.message_id = message.id
            touched[message.id] = message
            shown_before[message.id] = False
            part_rows[message.id] = [part_row]
        session.add_all(part_row for _, part_row in single_messages)

        multi_ids: list[int] = []
        for item in fresh:
            if not _is_multipart(item.part):
                continue
            message = await self._multipart_message(session, line_id, item, contacts, now, window)
            session.add(_part_row(line_id, item, now, message_id=message.id))
            if message.id not in touched:
                touched[message.id] = message
                shown_before[message.id] = message.status == "received"
                multi_ids.append(message.id)
        if multi_ids:
            await session.flush()
            for row in await session.scalars(
                select(PartRow).where(PartRow.message_id.in_(multi_ids)).order_by(PartRow.seq)
            ):
                part_rows.setdefault(row.message_id, []).append(row)
            for mid in multi_ids:
                message = touched[mid]
                _rebuild(message, part_rows[mid], released=message.released_at is not None)
        await session.flush()

        phones = {contact_id: number for number, contact_id in contacts.items()}
        messages = {
            mid: convert.message(row, phones.get(row.contact_id or 0), part_rows.get(mid, ()))
            for mid, row in touched.items()
        }
        events = await append_events(
            session,
            [
                ("message.updated" if shown_before[mid] else "message.created",
                 convert.message_data(message))
                for mid, message in messages.items()
                if message.status == "received"
            ],
            now,
        )
        return InboundResult(
            new_parts=len(fresh),
            duplicate_parts=len(prepared) - len(fresh),
            messages=tuple(messages.values()),
            events=tuple(events),
        )

    def _single_message(
        self, line_id: int, item: _Prepared, contacts: dict[str, int], now: datetime
    ) -> tuple[MessageRow, PartRow]:
        part = item.part
        part_row = _part_row(line_id, item, now, message_id=None)
        assembled = assemble([part_row], 1)
        message = MessageRow(
            direction="in", line_id=line_id, contact_id=contacts.get(item.sender),
            text=assembled.text, encoding=part.encoding, status="received",
            is_text=assembled.is_text, placeholder_reason=assembled.placeholder_reason,
            missing_parts=None, parts_total=1, parts_received=1, complete=True, concat_ref=None,
            concat_ref_bits=None, error=None, scts=part.scts, received_at=now, released_at=None,
            queued_at=None, sent_at=None, delivered_at=None, sort_at=part.scts or now,
            client_id=None, case_id=None, created_by=None,
        )
        return message, part_row

    async def _multipart_message(
        self,
        session: AsyncSession,
        line_id: int,
        item: _Prepared,
        contacts: dict[str, int],
        now: datetime,
        window: timedelta,
    ) -> MessageRow:
        """The message this part belongs to: an incomplete one with the same line, sender,
        reference and total, SCTS within the window and this seq still missing; else a new one."""
        part = item.part
        concat = part.concat
        assert concat is not None
        assert part.scts is not None
        contact_id = contacts.get(item.sender)
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
        if message is not None:
            # Shown by the earliest part's SCTS, whichever part arrived first.
            if message.scts is not None and part.scts < message.scts:
                message.scts = message.sort_at = part.scts
            return message
        message = MessageRow(
            direction="in", line_id=line_id, contact_id=contact_id, text=None,
            encoding=part.encoding, status="receiving", is_text=part.text is not None,
            placeholder_reason=part.placeholder_reason, missing_parts=None,
            parts_total=concat.total, parts_received=0, complete=False, concat_ref=concat.ref,
            concat_ref_bits=concat.ref_bits, error=None, scts=part.scts, received_at=now,
            released_at=None, queued_at=None, sent_at=None, delivered_at=None,
            sort_at=part.scts, client_id=None, case_id=None, created_by=None,
        )
        session.add(message)
        await session.flush()
        return message

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
            if not rows:
                return [], []
            parts: dict[int, list[PartRow]] = {row.id: [] for row in rows}
            for part in await session.scalars(
                select(PartRow).where(PartRow.message_id.in_(parts)).order_by(PartRow.seq)
            ):
                parts[part.message_id].append(part)
            for row in rows:
                row.released_at = now
                _rebuild(row, parts[row.id], released=True)
            await session.flush()
            loaded = await load_messages(session, [row.id for row in rows])
            events = await append_events(
                session,
                [("message.created", convert.message_data(m)) for m in loaded.values()],
                now,
            )
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
