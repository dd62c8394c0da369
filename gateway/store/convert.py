"""ORM rows (or Core rows of the same tables) to domain values, and the event payloads built
from them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias, cast

from sqlalchemy import Row

from gateway.store import domain
from gateway.store.models import (
    ApiTokenRow,
    AuditRow,
    CaseRow,
    ContactRow,
    EventRow,
    LineRow,
    MessageRow,
    PartRow,
    RequestRow,
    SessionRow,
    UserRow,
)

# A Core row of any of the models' tables: a SQLAlchemy Row, or the named tuple of
# gateway.store.sql; the columns are its attributes.
AnyRow: TypeAlias = Row[*tuple[Any, ...]] | Any


def line(row: LineRow | AnyRow) -> domain.Line:
    return domain.Line(
        id=row.id, name=row.name, number=row.number, iccid=row.iccid, imsi=row.imsi,
        imei=row.imei, model=row.model, status=row.status, last_seen=row.last_seen,
        created_at=row.created_at,
    )


def contact(row: ContactRow) -> domain.Contact:
    return domain.Contact(
        id=row.id, number=row.number, name=row.name, opted_out=row.opted_out,
        opted_out_at=row.opted_out_at, created_at=row.created_at, address=row.address,
        address_ton=row.address_ton, address_npi=row.address_npi,
    )


def part(row: PartRow | AnyRow) -> domain.Part:
    return domain.Part(
        id=row.id, message_id=row.message_id, seq=row.seq, total=row.total,
        concat_ref=row.concat_ref, ref_bits=row.ref_bits, pdu=row.pdu,
        tpdu_length=row.tpdu_length, text=row.text, status=cast(domain.PartStatus, row.status),
        tp_mr=row.tp_mr, attempts=row.attempts, next_attempt_at=row.next_attempt_at,
        last_error=row.last_error, pdu_hash=row.pdu_hash, created_at=row.created_at,
        sending_at=row.sending_at, sent_at=row.sent_at, done_at=row.done_at,
        smsc_message_id=row.smsc_message_id,
    )


def missing_parts(value: str | None) -> tuple[int, ...]:
    return tuple(int(seq) for seq in value.split(",")) if value else ()


def message(
    row: MessageRow | AnyRow, phone: str | None, parts: Sequence[PartRow | AnyRow] = ()
) -> domain.Message:
    return domain.Message(
        id=row.id, direction=cast(domain.Direction, row.direction), line_id=row.line_id,
        contact_id=row.contact_id, phone=phone, text=row.text, encoding=row.encoding,
        status=cast(domain.MessageStatus, row.status), is_text=row.is_text,
        placeholder_reason=row.placeholder_reason, missing_parts=missing_parts(row.missing_parts),
        parts_total=row.parts_total, error=row.error, scts=row.scts, received_at=row.received_at,
        queued_at=row.queued_at, sent_at=row.sent_at, delivered_at=row.delivered_at,
        client_id=row.client_id, case_id=row.case_id, created_by=row.created_by,
        sort_at=row.sort_at, parts=tuple(part(p) for p in sorted(parts, key=lambda p: p.seq)),
    )


def event(row: EventRow | AnyRow) -> domain.Event:
    return domain.Event(seq=row.seq, type=row.type, data=row.data, created_at=row.created_at)


def case(row: CaseRow | AnyRow, phone: str) -> domain.Case:
    return domain.Case(
        id=row.id, contact_id=row.contact_id, phone=phone, line_id=row.line_id,
        status=cast(domain.CaseStatus, row.status), agent_id=row.agent_id, address=row.address,
        address_status=cast(domain.AddressStatus | None, row.address_status),
        opened_at=row.opened_at, closed_at=row.closed_at, closed_by=row.closed_by,
        wrap_up=row.wrap_up, summary=row.summary,
    )


def request(row: RequestRow | AnyRow, phone: str) -> domain.ChatRequest:
    return domain.ChatRequest(
        id=row.id, contact_id=row.contact_id, phone=phone, line_id=row.line_id,
        message_id=row.message_id, status=cast(domain.RequestStatus, row.status),
        overdue=row.overdue, created_at=row.created_at, answered_at=row.answered_at,
        answered_by=row.answered_by, case_id=row.case_id,
    )


def user(row: UserRow) -> domain.User:
    return domain.User(
        id=row.id, username=row.username, role=cast(domain.Role, row.role),
        password_hash=row.password_hash, disabled=row.disabled, created_at=row.created_at,
        last_seen=row.last_seen,
    )


def session(row: SessionRow) -> domain.Session:
    return domain.Session(
        id=row.id, user_id=row.user_id, token_hash=row.token_hash, csrf_token=row.csrf_token,
        created_at=row.created_at, expires_at=row.expires_at,
    )


def api_token(row: ApiTokenRow) -> domain.ApiToken:
    return domain.ApiToken(
        id=row.id, name=row.name, token_hash=row.token_hash, scopes=tuple(row.scopes),
        created_by=row.created_by, created_at=row.created_at, revoked=row.revoked,
        revoked_at=row.revoked_at, last_used_at=row.last_used_at,
    )


def audit(row: AuditRow) -> domain.AuditEntry:
    return domain.AuditEntry(
        id=row.id, user_id=row.user_id, action=row.action, target=row.target,
        details=row.details, at=row.at,
    )


def _time(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def message_data(msg: domain.Message) -> dict[str, Any]:
    """The JSON payload of message.* events: what a console needs to show the message."""
    return {
        "id": msg.id, "direction": msg.direction, "line_id": msg.line_id,
        "contact_id": msg.contact_id, "phone": msg.phone, "text": msg.text,
        "encoding": msg.encoding, "status": msg.status, "is_text": msg.is_text,
        "placeholder_reason": msg.placeholder_reason, "missing_parts": list(msg.missing_parts),
        "parts_total": msg.parts_total, "error": msg.error, "scts": _time(msg.scts),
        "received_at": _time(msg.received_at), "queued_at": _time(msg.queued_at),
        "sent_at": _time(msg.sent_at), "delivered_at": _time(msg.delivered_at),
        "client_id": msg.client_id, "case_id": msg.case_id, "created_by": msg.created_by,
        "sort_at": _time(msg.sort_at),
    }


def line_data(ln: domain.Line) -> dict[str, Any]:
    return {
        "id": ln.id, "name": ln.name, "number": ln.number, "status": ln.status,
        "last_seen": _time(ln.last_seen),
    }
