"""Outbound messages: committed as queued before any AT command, then tracked part by part.

Part status: queued -> sending -> sent (TP-MR) -> delivered | failed | expired. A part found in
`sending` at start becomes `unknown` and is shown, never resent silently.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Update, bindparam, func, insert, literal, or_, select, update
from sqlalchemy.exc import IntegrityError

from gateway.sms.model import Address, EncodedMessage
from gateway.store import convert, sql, tables
from gateway.store.claims import LineOwner, claim_part
from gateway.store.contacts import (
    SHORT_CODE_DIGITS,
    contact_ids,
    match_key,
    normalise_number,
    sender_number,
)
from gateway.store.convert import AnyRow
from gateway.store.database import Database, utc_now
from gateway.store.domain import (
    FINAL_PART_STATUSES,
    Event,
    Message,
    Part,
    PartStatus,
    PartUpdate,
    QueueResult,
)
from gateway.store.errors import InvalidTransitionError, NotFoundError, StoreError
from gateway.store.events import insert_event
from gateway.store.messages import message_id_for_client, read_message

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


_M, _P, _C = tables.messages, tables.parts, tables.contacts

# Statements built once: building a SQLAlchemy statement costs more than running it on SQLite.
_INSERT_MESSAGE = insert(_M).returning(*_M.c)
_INSERT_PARTS = insert(_P).returning(*_P.c, sort_by_parameter_order=True)
_DUE = (
    select(*_P.c)
    .where(
        _P.c.line_id == bindparam("line_id"),
        _P.c.status == "queued",
        or_(_P.c.next_attempt_at.is_(None), _P.c.next_attempt_at <= bindparam("now")),
    )
    .order_by(_P.c.message_id, _P.c.seq)
    .limit(bindparam("limit"))
)
_NEXT_RETRY = select(func.min(_P.c.next_attempt_at)).where(
    _P.c.line_id == bindparam("line_id"), _P.c.status == "queued"
)
_DEPTH = select(func.count()).where(
    # IN of literals, not a list parameter: see gateway.store.sql
    _P.c.line_id == bindparam("line_id"), _P.c.status.in_([literal("queued"), literal("sending")])
)
_STATUS_OF = select(_P.c.status).where(_P.c.id == bindparam("part_id"))
_PARTS_OF = select(*_P.c).where(_P.c.message_id == bindparam("message_id")).order_by(_P.c.seq)
_SENDING_IDS = select(_P.c.id).where(_P.c.status == "sending").order_by(_P.c.id)
_SENDING_IDS_OF_LINE = _SENDING_IDS.where(_P.c.line_id == bindparam("line_id"))
_REPORTED_PART = (
    select(_P.c.id)
    .join(_M, _M.c.id == _P.c.message_id)
    .join(_C, _C.c.id == _M.c.contact_id)
    .where(
        _P.c.line_id == bindparam("line_id"),
        _P.c.tp_mr == bindparam("tp_mr"),
        _P.c.status == "sent",
        _P.c.sent_at >= bindparam("since", type_=_P.c.sent_at.type),
        _C.c.number == bindparam("number"),
    )
    .order_by(_P.c.sent_at.desc(), _P.c.id.desc())
    .limit(1)
)
# A part whose +CMGS never came (so without TP-MR) that the network sent after all: the newest
# one to that recipient on that line, for a report that matches no sent part.
_REPORTED_UNKNOWN_PART = (
    select(_P.c.id)
    .join(_M, _M.c.id == _P.c.message_id)
    .join(_C, _C.c.id == _M.c.contact_id)
    .where(
        _P.c.line_id == bindparam("line_id"),
        _P.c.status == "unknown",
        _P.c.tp_mr.is_(None),
        _P.c.sending_at >= bindparam("since", type_=_P.c.sending_at.type),
        _C.c.number == bindparam("number"),
    )
    .order_by(_P.c.sending_at.desc(), _P.c.id.desc())
    .limit(1)
)
# An SMPP line's receipt names the part by the SMSC's message id.
_RECEIPTED_PART = (
    select(_P.c.id)
    .where(
        _P.c.line_id == bindparam("line_id"),
        _P.c.smsc_message_id == bindparam("smsc_message_id"),
        _P.c.status == "sent",
    )
    .order_by(_P.c.sent_at.desc(), _P.c.id.desc())
    .limit(1)
)
# A message's status follows its parts'; sent_at and delivered_at are set once.
_MESSAGE_STATUS = {
    "status": bindparam("m_status"),
    "sent_at": func.coalesce(_M.c.sent_at, bindparam("m_sent_at", type_=_M.c.sent_at.type)),
    "delivered_at": func.coalesce(
        _M.c.delivered_at, bindparam("m_delivered_at", type_=_M.c.delivered_at.type)
    ),
}
# The message as it is now, and its contact's number, in the same statement.
_MESSAGE_AND_PHONE = (
    *_M.c,
    select(_C.c.number).where(_C.c.id == _M.c.contact_id).scalar_subquery().label("phone"),
)
_UPDATE_MESSAGE = (
    update(_M)
    .where(_M.c.id == bindparam("m_id"))
    .values(**_MESSAGE_STATUS)
    .returning(*_MESSAGE_AND_PHONE)
)
_UPDATE_MESSAGE_ERROR = (
    update(_M)
    .where(_M.c.id == bindparam("m_id"))
    .values(error=bindparam("m_error"), **_MESSAGE_STATUS)
    .returning(*_MESSAGE_AND_PHONE)
)


@functools.cache
def _move_part(allowed: tuple[str, ...], fields: tuple[str, ...]) -> Update:
    """UPDATE of a part's status (and `fields`) when its status is one of `allowed`, returning
    the part: conditional, so two writers can never both move one part."""
    values: dict[str, Any] = {"status": bindparam("p_status")}
    for field in fields:
        values[field] = (
            _P.c.attempts + 1 if field == "attempts" else bindparam(f"p_{field}")
        )
    return (
        update(_P)
        .where(_P.c.id == bindparam("p_id"), _P.c.status.in_([literal(s) for s in allowed]))
        .values(**values)
        .returning(*_P.c)
    )


class OutboundRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def queue_outbound(
        self,
        *,
        line_id: int,
        to: str | Address,
        text: str,
        encoded: EncodedMessage,
        client_id: str | None = None,
        case_id: int | None = None,
        created_by: int | None = None,
        now: datetime | None = None,
    ) -> QueueResult:
        """Commit a message and its parts as queued. The same `client_id` again returns the
        existing message (created=False) and never makes a second one.

        `to` is a number typed by a person (read in the default region; short codes too), or an
        Address the parts were encoded for (a contact's reply address, kept as it is)."""
        if not encoded.parts:
            raise StoreError("an outbound message needs at least one part")
        region = self._db.settings.default_region
        if isinstance(to, Address):
            number = match_key(to.number, to.type.ton, region)
        elif to.strip().isdigit() and len(to.strip()) in SHORT_CODE_DIGITS:
            number = to.strip()
        else:
            number = normalise_number(to, region)
        at = now or utc_now()
        if client_id is not None:
            existing = await self._by_client_id(client_id)
            if existing is not None:
                return existing
        total = len(encoded.parts)
        parts = [
            {
                "line_id": line_id, "seq": seq, "total": total,
                "concat_ref": part.concat.ref if part.concat else None,
                "ref_bits": part.concat.ref_bits if part.concat else None,
                "pdu": part.pdu, "tpdu_length": part.tpdu_length, "text": part.text,
                "encoding": encoded.encoding, "status": "queued", "attempts": 0,
                "pdu_hash": hashlib.sha256(part.pdu.upper().encode()).hexdigest(),
                "created_at": at,
            }
            for seq, part in enumerate(encoded.parts, start=1)
        ]

        def write(connection: Connection) -> QueueResult:
            contact_id = contact_ids(connection, [number], at)[number]
            row = sql.one(
                connection,
                _INSERT_MESSAGE,
                {
                    "direction": "out", "line_id": line_id, "contact_id": contact_id,
                    "text": text, "encoding": encoded.encoding, "status": "queued",
                    "is_text": True, "parts_total": total, "parts_received": 0,
                    "complete": True, "queued_at": at, "sort_at": at, "client_id": client_id,
                    "case_id": case_id, "created_by": created_by,
                },
            )
            part_rows = sql.execute_many(
                connection, _INSERT_PARTS, [{"message_id": row.id, **part} for part in parts]
            )
            message = convert.message(row, number, part_rows)
            event = insert_event(connection, "message.created", convert.message_data(message), at)
            return QueueResult(message=message, created=True, events=(event,))

        try:
            return await self._db.run_write(write)
        except IntegrityError:
            # Two requests with one client_id raced; the other committed first.
            existing = await self._by_client_id(client_id) if client_id is not None else None
            if existing is None:
                raise
            return existing

    async def _by_client_id(self, client_id: str) -> QueueResult | None:
        def read(connection: Connection) -> QueueResult | None:
            mid = message_id_for_client(connection, client_id)
            if mid is None:
                return None
            return QueueResult(message=read_message(connection, mid), created=False, events=())

        return await self._db.run_read(read)

    async def due_parts(
        self, line_id: int, now: datetime | None = None, limit: int = 100
    ) -> list[Part]:
        """Queued parts of a line whose (re)try time has come, oldest message first."""
        params = {"line_id": line_id, "now": now or utc_now(), "limit": limit}
        return await self._db.run_read(
            lambda c: [convert.part(row) for row in sql.rows(c, _DUE, params)]
        )

    async def next_retry_at(self, line_id: int) -> datetime | None:
        def read(connection: Connection) -> datetime | None:
            value: datetime | None = sql.value(connection, _NEXT_RETRY, {"line_id": line_id})
            return value

        return await self._db.run_read(read)

    async def queue_depth(self, line_id: int) -> int:
        """Parts waiting to go out on the line (queued or being sent)."""
        return await self._db.run_read(
            lambda c: int(sql.value(c, _DEPTH, {"line_id": line_id}) or 0)
        )

    async def mark_part_sending(
        self, part_id: int, now: datetime | None = None, owner: LineOwner | None = None
    ) -> PartUpdate:
        """Commit a part as sending. With `owner` (a cluster node), only while it holds the
        line's lease and nobody else is claiming the part (see gateway.store.claims)."""
        at = now or utc_now()
        values = {"sending_at": at, "attempts": None}
        if owner is None:
            return await self._transition(part_id, ("queued",), "sending", at, values)

        def write(connection: Connection) -> PartUpdate:
            claim_part(connection, part_id, owner)
            return _apply(connection, part_id, ("queued",), "sending", at, values)

        return await self._db.run_write(write)

    async def mark_part_sent(
        self, part_id: int, tp_mr: int | str, now: datetime | None = None
    ) -> PartUpdate:
        """`tp_mr` is a modem's TP-MR, or (a string) the message id an SMPP SMSC gave."""
        now = now or utc_now()
        reference = "smsc_message_id" if isinstance(tp_mr, str) else "tp_mr"
        return await self._transition(
            part_id, ("sending",), "sent", now, {reference: tp_mr, "sent_at": now},
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
        *,
        window_s: float,
    ) -> PartUpdate | None:
        """Match a status report to the newest sent part with this line, TP-MR and recipient
        sent within the window (`sending.status_report_window_s`), else to the newest part of
        unknown fate (its TP-MR was never learnt) to that recipient begun within the window: the
        network's word wins over our doubt. None when nothing matches (a stale or foreign
        report)."""
        if status not in FINAL_PART_STATUSES:
            raise ValueError(f"a status report sets a final status, not {status!r}")
        at = now or utc_now()
        number = sender_number(recipient, self._db.settings.default_region)
        values: dict[str, Any] = {"done_at": at}
        if error is not None:
            values["last_error"] = error

        def write(connection: Connection) -> PartUpdate | None:
            params = {"line_id": line_id, "tp_mr": tp_mr, "number": number,
                      "since": at - timedelta(seconds=window_s)}
            part_id = sql.value(connection, _REPORTED_PART, params)
            if part_id is not None:
                return _apply(connection, part_id, ("sent",), status, at, values)
            part_id = sql.value(connection, _REPORTED_UNKNOWN_PART, params)
            if part_id is None:
                return None
            return _apply(connection, part_id, ("unknown",), status, at,
                          {**values, "tp_mr": tp_mr})

        return await self._db.run_write(write)

    async def apply_receipt(
        self,
        line_id: int,
        smsc_message_id: str,
        status: PartStatus,
        now: datetime | None = None,
        error: str | None = None,
    ) -> PartUpdate | None:
        """An SMPP delivery receipt: the sent part of this line with this SMSC message id;
        None when nothing matches (a receipt for a part already final, or a stranger's)."""
        if status not in FINAL_PART_STATUSES:
            raise ValueError(f"a receipt sets a final status, not {status!r}")
        at = now or utc_now()
        values: dict[str, Any] = {"done_at": at}
        if error is not None:
            values["last_error"] = error

        def write(connection: Connection) -> PartUpdate | None:
            part_id = sql.value(connection, _RECEIPTED_PART,
                                {"line_id": line_id, "smsc_message_id": smsc_message_id})
            if part_id is None:
                return None
            return _apply(connection, part_id, ("sent",), status, at, values)

        return await self._db.run_write(write)

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
        at = now or utc_now()
        values = {"last_error": UNKNOWN_AFTER_RESTART}

        def write(connection: Connection) -> list[PartUpdate]:
            ids = sql.values(connection, _SENDING_IDS)
            return [_apply(connection, pid, ("sending",), "unknown", at, values) for pid in ids]

        return await self._db.run_write(write)

    async def _transition(
        self,
        part_id: int,
        allowed: tuple[str, ...],
        status: str,
        now: datetime,
        values: dict[str, Any],
    ) -> PartUpdate:
        return await self._db.run_write(
            lambda c: _apply(c, part_id, allowed, status, now, values)
        )


def mark_line_sending_unknown(connection: Connection, line_id: int, at: datetime) -> list[Event]:
    """In the caller's transaction: a line's parts left `sending` by its previous holder (a
    crashed run, another node) become unknown; returns the events logged."""
    ids = sql.values(connection, _SENDING_IDS_OF_LINE, {"line_id": line_id})
    values = {"last_error": UNKNOWN_AFTER_RESTART}
    return [_apply(connection, pid, ("sending",), "unknown", at, values).event for pid in ids]


def _apply(
    connection: Connection,
    part_id: int,
    allowed: tuple[str, ...],
    status: str,
    now: datetime,
    values: dict[str, Any],
) -> PartUpdate:
    """Move one part and its message; `values` are the part's other columns to set (the value of
    "attempts" is ignored: it counts up). Returns the part, the message and the logged event."""
    params = {"p_id": part_id, "p_status": status}
    params.update({f"p_{field}": value for field, value in values.items() if field != "attempts"})
    moved = sql.first(connection, _move_part(allowed, tuple(values)), params)
    if moved is None:
        current = sql.value(connection, _STATUS_OF, {"part_id": part_id})
        if current is None:
            raise NotFoundError("part", part_id)
        raise InvalidTransitionError("part", part_id, current, status)
    parts: Sequence[AnyRow] = (
        [moved] if moved.total == 1
        else sql.rows(connection, _PARTS_OF, {"message_id": moved.message_id})
    )
    message_status_ = message_status([p.status for p in parts])
    message_params = {
        "m_id": moved.message_id, "m_status": message_status_,
        "m_sent_at": now if message_status_ in {"sent", "delivered"} else None,
        "m_delivered_at": now if message_status_ == "delivered" else None,
    }
    if "last_error" in values:
        message_params["m_error"] = values["last_error"]
        message = sql.one(connection, _UPDATE_MESSAGE_ERROR, message_params)
    else:
        message = sql.one(connection, _UPDATE_MESSAGE, message_params)
    loaded = convert.message(message, message.phone, parts)
    event = insert_event(connection, "message.status", _status_data(loaded, moved), now)
    return PartUpdate(part=convert.part(moved), message=loaded, event=event)


def _status_data(message: Message, part: AnyRow) -> dict[str, Any]:
    return {
        "message_id": message.id, "part_id": part.id, "seq": part.seq, "total": part.total,
        "status": part.status, "tp_mr": part.tp_mr, "attempts": part.attempts,
        "error": part.last_error, "message_status": message.status, "line_id": part.line_id,
        "phone": message.phone, "case_id": message.case_id,
        "parts": {s: sum(1 for p in message.parts if p.status == s)
                  for s in sorted({p.status for p in message.parts})},
    }
