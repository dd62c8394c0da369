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
from types import SimpleNamespace
from typing import Any, Protocol

from sqlalchemy import Connection, Select, bindparam, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from gateway.store import convert, sql, tables
from gateway.store.contacts import Reachable, contact_ids, match_key, remember_addresses
from gateway.store.convert import AnyRow
from gateway.store.database import Database, utc_now
from gateway.store.domain import Event, InboundPart, InboundResult, Message
from gateway.store.events import insert_events
from gateway.store.messages import read_messages
from gateway.store.storable import storable_or_none, storable_text

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


class PartContent(Protocol):
    """What reassembly reads of a part: a stored row, or one about to be stored."""

    @property
    def seq(self) -> int: ...
    @property
    def text(self) -> str | None: ...
    @property
    def encoding(self) -> str | None: ...
    @property
    def user_data(self) -> bytes | None: ...
    @property
    def placeholder_reason(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class _Content:
    seq: int
    text: str | None
    encoding: str | None
    user_data: bytes | None
    placeholder_reason: str | None


def _part_values(line_id: int, item: _Prepared, now: datetime) -> dict[str, Any]:
    part = item.part
    concat = part.concat if _is_multipart(part) else None
    return {
        "line_id": line_id, "seq": concat.seq if concat else 1,
        "total": concat.total if concat else 1, "concat_ref": concat.ref if concat else None,
        "ref_bits": concat.ref_bits if concat else None, "pdu": storable_text(part.pdu),
        "tpdu_length": None, "user_data": part.user_data, "text": storable_or_none(part.text),
        "encoding": part.encoding, "placeholder_reason": storable_or_none(part.placeholder_reason),
        "status": "received", "tp_mr": None, "smsc_message_id": None,
        "attempts": 0, "next_attempt_at": None, "last_error": None, "pdu_hash": item.hashed,
        "dedupe_key": item.key, "created_at": now, "sending_at": None, "sent_at": None,
        "done_at": None,
    }


def _rebuilt(
    message: AnyRow, parts: Sequence[PartContent], released: bool
) -> dict[str, Any]:
    """The message columns that follow from its parts."""
    assembled = assemble(parts, message.parts_total)
    complete = not assembled.missing
    return {
        "parts_received": len(parts), "complete": complete, "text": assembled.text,
        "is_text": assembled.is_text, "placeholder_reason": assembled.placeholder_reason,
        "missing_parts": ",".join(map(str, assembled.missing)) or None,
        "status": "received" if complete or released else message.status,
    }


def _is_text(part: PartContent) -> bool:
    # A UCS2 part may end in half a character, so its own text can be missing; its bytes count.
    return part.text is not None or (part.encoding == "ucs2" and bool(part.user_data))


def assemble(parts: Sequence[PartContent], total: int) -> _Assembled:
    """Join parts in seq order; UCS2 runs are joined as bytes first, so a character split
    across two parts (a surrogate pair) comes out whole."""
    by_seq = {p.seq: p for p in parts}
    missing = tuple(seq for seq in range(1, total + 1) if seq not in by_seq)
    non_text = [p for p in parts if not _is_text(p)]
    if non_text:
        first = min(non_text, key=lambda p: p.seq)
        reason = storable_or_none(first.placeholder_reason) or "not text"
        return _Assembled(None, False, reason, missing)
    pieces: list[str] = []
    run: list[PartContent] = []

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
    return _Assembled(storable_text("".join(pieces)), True, None, missing)


_M, _P = tables.messages, tables.parts
_SEEN = select(_P.c.dedupe_key).where(
    _P.c.line_id == bindparam("line_id"),
    _P.c.dedupe_key.in_(bindparam("keys", expanding=True)),
)
_SEEN_ONE = select(_P.c.dedupe_key).where(
    _P.c.line_id == bindparam("line_id"), _P.c.dedupe_key == bindparam("key")
)
# SMPP has no SCTS: an SMSC's redelivery is the same PDU body again, shortly after.
_REDELIVERED = select(_P.c.pdu_hash).where(
    _P.c.line_id == bindparam("line_id"),
    _P.c.pdu_hash.in_(bindparam("hashes", expanding=True)),
    _P.c.created_at >= bindparam("since", type_=_P.c.created_at.type),
)
_INSERT_MESSAGES = insert(_M).returning(*_M.c, sort_by_parameter_order=True)
# Rows whose every column is in hand only need their ids back.
_INSERT_MESSAGE_IDS = insert(_M).returning(_M.c.id, sort_by_parameter_order=True)
_INSERT_PART_IDS = insert(_P).returning(_P.c.id, sort_by_parameter_order=True)
_INSERT_PART = insert(_P)


def _open_message(known_sender: bool) -> Select[Any]:
    """The message a part belongs to: an incomplete one with the same line, sender, reference
    and total, SCTS within the window and this seq still missing."""
    contact = _M.c.contact_id
    return (
        select(*_M.c)
        .where(
            _M.c.line_id == bindparam("line_id"),
            contact == bindparam("contact_id") if known_sender else contact.is_(None),
            _M.c.direction == "in",
            _M.c.concat_ref == bindparam("ref"),
            _M.c.concat_ref_bits == bindparam("ref_bits"),
            _M.c.parts_total == bindparam("total"),
            _M.c.complete.is_(False),
            _M.c.scts >= bindparam("earliest", type_=_M.c.scts.type),
            _M.c.scts <= bindparam("latest", type_=_M.c.scts.type),
            ~exists().where(_P.c.message_id == _M.c.id, _P.c.seq == bindparam("seq")),
        )
        .order_by(_M.c.id)
        .limit(1)
    )


_OPEN_MESSAGE = {True: _open_message(True), False: _open_message(False)}
_SET_SCTS = (
    update(_M)
    .where(_M.c.id == bindparam("m_id"))
    .values(scts=bindparam("m_scts", type_=_M.c.scts.type), sort_at=bindparam("m_scts"))
    .returning(*_M.c)
)
_PARTS_OF = (
    select(*_P.c).where(_P.c.message_id.in_(bindparam("ids", expanding=True))).order_by(_P.c.seq)
)
_UPDATE_MESSAGE = (
    update(_M)
    .where(_M.c.id == bindparam("m_id"))
    .values({column: bindparam(f"m_{column}") for column in (
        "parts_received", "complete", "text", "is_text", "placeholder_reason", "missing_parts",
        "status", "released_at",
    )})
    .returning(*_M.c)
)
_OVERDUE = (
    select(*_M.c)
    .where(
        _M.c.status == "receiving",
        _M.c.direction == "in",
        _M.c.received_at <= bindparam("cutoff", type_=_M.c.received_at.type),
    )
    .order_by(_M.c.id)
)
_OLDEST_PARTIAL = select(func.min(_M.c.received_at)).where(
    _M.c.status == "receiving", _M.c.direction == "in"
)


class InboundRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def record_inbound(
        self,
        line_id: int,
        parts: Sequence[InboundPart],
        now: datetime | None = None,
        concat_window_s: float = DEFAULT_CONCAT_WINDOW_S,
        redelivery_window_s: float | None = None,
    ) -> InboundResult:
        """Commit parts read from a modem in one transaction. When this returns, every part is
        durable (new or already there) and the modem copies may be deleted. Batches are much
        cheaper per part than single calls. With `redelivery_window_s` (SMPP lines, whose
        PDUs carry no timestamp), a part whose PDU this line stored that recently is the
        SMSC delivering it again, and is not stored twice."""
        at = now or utc_now()
        window = timedelta(seconds=concat_window_s)
        region = self._db.settings.default_region
        prepared = []
        for part in parts:
            sender = match_key(part.sender, part.sender_ton, region) if part.sender else ""
            hashed = pdu_hash(part.pdu)
            prepared.append(_Prepared(part, sender, hashed, dedupe_key(part, sender, hashed)))
        async with self._db.line_lock(line_id):
            for attempt in range(_RACE_RETRIES):
                try:
                    return await self._db.run_write(
                        lambda c: _record(c, line_id, prepared, at, window, redelivery_window_s)
                    )
                except IntegrityError:
                    # Another process stored one of these parts meanwhile; nothing of ours was
                    # committed, and the next attempt sees it as a duplicate.
                    if attempt == _RACE_RETRIES - 1:
                        raise
        raise AssertionError("unreachable")

    async def release_overdue_partials(
        self, now: datetime | None = None, timeout_s: float = DEFAULT_PARTIAL_RELEASE_S
    ) -> tuple[list[Message], list[Event]]:
        """Show messages whose parts have been missing for `timeout_s` since the first arrived,
        with a marker for each missing part; a late part later completes them in place."""
        at = now or utc_now()
        cutoff = at - timedelta(seconds=timeout_s)

        def write(connection: Connection) -> tuple[list[Message], list[Event]]:
            rows = sql.rows(connection, _OVERDUE, {"cutoff": cutoff})
            if not rows:
                return [], []
            parts: dict[int, list[AnyRow]] = {row.id: [] for row in rows}
            for part in sql.rows(connection, _PARTS_OF, {"ids": list(parts)}):
                parts[part.message_id].append(part)
            for row in rows:
                _update_message(connection, row, parts[row.id], released_at=at)
            loaded = read_messages(connection, [row.id for row in rows])
            events = insert_events(
                connection,
                [("message.created", convert.message_data(m)) for m in loaded.values()],
                at,
            )
            return list(loaded.values()), events

        return await self._db.run_write(write)

    async def next_partial_deadline(
        self, timeout_s: float = DEFAULT_PARTIAL_RELEASE_S
    ) -> datetime | None:
        """When the oldest incomplete message is due for release, so the caller can sleep."""

        def read(connection: Connection) -> datetime | None:
            oldest: datetime | None = sql.value(connection, _OLDEST_PARTIAL)
            return oldest + timedelta(seconds=timeout_s) if oldest is not None else None

        return await self._db.run_read(read)


def _reply_addresses(fresh: Sequence[_Prepared]) -> dict[str, Reachable]:
    """Each sender's address as its latest part gave it (parts without a type keep the old)."""
    return {
        item.sender: (item.part.sender, item.part.sender_ton, item.part.sender_npi or 0)
        for item in fresh
        if item.sender and item.part.sender_ton is not None
    }


def _record(
    connection: Connection,
    line_id: int,
    prepared: Sequence[_Prepared],
    now: datetime,
    window: timedelta,
    redelivery_window_s: float | None = None,
) -> InboundResult:
    keys = sorted({item.key for item in prepared})
    seen = set(
        sql.values(connection, _SEEN_ONE, {"line_id": line_id, "key": keys[0]})
        if len(keys) == 1
        else sql.values(connection, _SEEN, {"line_id": line_id, "keys": keys})
    )
    redelivered: set[str] = set()
    if redelivery_window_s is not None:
        redelivered = set(sql.values(connection, _REDELIVERED, {
            "line_id": line_id, "hashes": sorted({item.hashed for item in prepared}),
            "since": now - timedelta(seconds=redelivery_window_s),
        }))
    fresh: list[_Prepared] = []
    for item in prepared:
        if item.hashed in redelivered:
            continue
        if item.key not in seen:
            seen.add(item.key)
            fresh.append(item)
    contacts = contact_ids(connection, {i.sender for i in fresh if i.sender}, now)
    remember_addresses(connection, contacts, _reply_addresses(fresh))
    phones = {contact_id: number for number, contact_id in contacts.items()}
    messages: dict[int, Message] = {}
    shown_before: dict[int, bool] = {}

    singles = [i for i in fresh if not _is_multipart(i.part)]
    if singles:
        message_values = [_single_message(line_id, i, contacts, now) for i in singles]
        message_ids = sql.execute_many(connection, _INSERT_MESSAGE_IDS, message_values)
        part_values = [
            {**_part_values(line_id, i, now), "message_id": row.id}
            for i, row in zip(singles, message_ids, strict=True)
        ]
        part_ids = sql.execute_many(connection, _INSERT_PART_IDS, part_values)
        for values, row, part, part_row in zip(
            message_values, message_ids, part_values, part_ids, strict=True
        ):
            messages[row.id] = convert.message(
                SimpleNamespace(**values, id=row.id), phones.get(values["contact_id"] or 0),
                [SimpleNamespace(**part, id=part_row.id)],
            )
            shown_before[row.id] = False

    touched: dict[int, AnyRow] = {}
    for item in fresh:
        if not _is_multipart(item.part):
            continue
        message = _multipart_message(connection, line_id, item, contacts, now, window)
        sql.rows(connection, _INSERT_PART, {**_part_values(line_id, item, now),
                                            "message_id": message.id})
        if message.id not in touched:
            shown_before[message.id] = message.status == "received"
        touched[message.id] = message
    if touched:
        parts: dict[int, list[AnyRow]] = {mid: [] for mid in touched}
        for part in sql.rows(connection, _PARTS_OF, {"ids": list(touched)}):
            parts[part.message_id].append(part)
        for mid, row in touched.items():
            updated = _update_message(connection, row, parts[mid], released_at=row.released_at)
            messages[mid] = convert.message(updated, phones.get(row.contact_id or 0), parts[mid])

    events = insert_events(
        connection,
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
    line_id: int, item: _Prepared, contacts: dict[str, int], now: datetime
) -> dict[str, Any]:
    part = item.part
    assembled = assemble(
        [_Content(1, part.text, part.encoding, part.user_data, part.placeholder_reason)], 1
    )
    return {
        "direction": "in", "line_id": line_id, "contact_id": contacts.get(item.sender),
        "text": assembled.text, "encoding": part.encoding, "status": "received",
        "is_text": assembled.is_text, "placeholder_reason": assembled.placeholder_reason,
        "missing_parts": None, "parts_total": 1, "parts_received": 1, "complete": True,
        "concat_ref": None, "concat_ref_bits": None, "error": None, "scts": part.scts,
        "received_at": now, "released_at": None, "queued_at": None, "sent_at": None,
        "delivered_at": None, "sort_at": part.scts or now, "client_id": None, "case_id": None,
        "created_by": None,
    }


def _multipart_message(
    connection: Connection,
    line_id: int,
    item: _Prepared,
    contacts: dict[str, int],
    now: datetime,
    window: timedelta,
) -> AnyRow:
    """The message this part belongs to (see _open_message), else a new one."""
    part = item.part
    concat = part.concat
    assert concat is not None
    assert part.scts is not None
    contact_id = contacts.get(item.sender)
    message = sql.first(
        connection,
        _OPEN_MESSAGE[contact_id is not None],
        {"line_id": line_id, "contact_id": contact_id, "ref": concat.ref,
         "ref_bits": concat.ref_bits, "total": concat.total, "seq": concat.seq,
         "earliest": part.scts - window, "latest": part.scts + window},
    )
    if message is not None:
        # Shown by the earliest part's SCTS, whichever part arrived first.
        if message.scts is not None and part.scts < message.scts:
            message = sql.one(connection, _SET_SCTS, {"m_id": message.id, "m_scts": part.scts})
        return message
    return sql.one(
        connection,
        _INSERT_MESSAGES,
        {
            "direction": "in", "line_id": line_id, "contact_id": contact_id, "text": None,
            "encoding": part.encoding, "status": "receiving", "is_text": part.text is not None,
            "placeholder_reason": storable_or_none(part.placeholder_reason),
            "missing_parts": None, "parts_total": concat.total, "parts_received": 0,
            "complete": False,
            "concat_ref": concat.ref, "concat_ref_bits": concat.ref_bits, "error": None,
            "scts": part.scts, "received_at": now, "released_at": None, "queued_at": None,
            "sent_at": None, "delivered_at": None, "sort_at": part.scts, "client_id": None,
            "case_id": None, "created_by": None,
        },
    )


def _update_message(
    connection: Connection,
    message: AnyRow,
    parts: Sequence[PartContent],
    released_at: datetime | None,
) -> AnyRow:
    values = _rebuilt(message, parts, released=released_at is not None)
    params = {f"m_{column}": value for column, value in values.items()}
    params.update({"m_id": message.id, "m_released_at": released_at})
    return sql.one(connection, _UPDATE_MESSAGE, params)
