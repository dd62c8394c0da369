"""The JSON shapes the API answers with (see docs/API.md and openapi.yaml)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gateway.service.views import (
    REQUEST_NAME,
    AgentPresence,
    CasePageView,
    CaseSummary,
    CaseView,
    HistoryEntry,
    HistoryPage,
    LineView,
    RequestPageView,
    RequestView,
    SenderView,
    call_id,
)
from gateway.sms.model import SegmentCount
from gateway.store.domain import ApiToken, Line, Message, Part, User


def time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def user(value: User) -> dict[str, Any]:
    return {
        "id": value.id, "username": value.username, "role": value.role,
        "disabled": value.disabled, "created_at": time(value.created_at),
        "last_seen": time(value.last_seen),
    }


def line_ref(value: Line | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {"id": value.id, "name": value.name, "number": value.number}


def case_summary(value: CaseSummary | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {
        "id": value.id, "status": value.status, "opened_at": time(value.opened_at),
        "closed_at": time(value.closed_at), "closed_by": value.closed_by, "agent": value.agent,
    }


def sender(value: SenderView | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {
        "address": value.address, "type": value.type, "kind": value.kind,
        "can_reply": value.cannot_reply_reason is None,
        "cannot_reply_reason": value.cannot_reply_reason,
    }


def request(value: RequestView, now: datetime) -> dict[str, Any]:
    r = value.request
    return {
        "id": r.id, "name": REQUEST_NAME, "call_id": call_id(r.phone), "phone": r.phone,
        "line": line_ref(value.line), "created_at": time(r.created_at),
        "waiting_s": max(0.0, (now - r.created_at).total_seconds()), "preview": value.preview,
        "overdue": r.overdue, "opted_out": value.opted_out,
        "recent_case": case_summary(value.recent_case), "contact_name": value.contact_name,
        "sender": sender(value.sender), "case_id": r.case_id, "away_agent": value.away_agent,
    }


def request_page(value: RequestPageView, now: datetime) -> dict[str, Any]:
    requests = [request(v, now) for v in value.requests]
    oldest = None
    if value.oldest is not None:
        oldest = requests[0] if requests and requests[0]["id"] == value.oldest.request.id \
            else request(value.oldest, now)
    return {
        "requests": requests, "count": value.count, "oldest": oldest,
        "has_more": value.has_more,
        "next_after": requests[-1]["id"] if value.has_more and requests else None,
    }


def case_page(value: CasePageView) -> dict[str, Any]:
    cases = [case(v) for v in value.cases]
    return {
        "cases": cases, "count": value.count, "has_more": value.has_more,
        "next_before": cases[-1]["id"] if value.has_more and cases else None,
    }


def case(value: CaseView) -> dict[str, Any]:
    c = value.case
    return {
        "id": c.id, "phone": c.phone, "status": c.status, "agent": value.agent,
        "agent_id": c.agent_id, "line": line_ref(value.line),
        "address": {
            "status": c.address_status, "address": c.address, "error": value.address_error,
        },
        "opted_out": value.opted_out, "opened_at": time(c.opened_at),
        "closed_at": time(c.closed_at), "closed_by": value.closed_by,
        "wrap_up": c.wrap_up, "summary": c.summary, "contact_name": value.contact_name,
        "waiting_since": time(value.waiting_since), "reply_overdue": value.reply_overdue,
        "sender": sender(value.sender),
    }


def part(value: Part) -> dict[str, Any]:
    return {
        "seq": value.seq, "total": value.total, "status": value.status,
        "sent_at": time(value.sent_at), "done_at": time(value.done_at),
        "error": value.last_error,
    }


def message(
    value: Message, since_start_s: float | None = None, sent_by: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": value.id, "direction": value.direction, "case_id": value.case_id,
        "line_id": value.line_id, "phone": value.phone, "text": value.text,
        "is_text": value.is_text, "placeholder": (
            None if value.is_text else (value.placeholder_reason or "not a text message")
        ),
        "missing_parts": list(value.missing_parts), "encoding": value.encoding,
        "status": value.status, "at": time(value.sort_at), "client_id": value.client_id,
        "error": value.error,
    }
    if since_start_s is not None:
        body["since_start_s"] = since_start_s
    if value.direction == "out":
        body["created_by"] = value.created_by
        body["sent_by"] = sent_by
        counts = {"queued": 0, "sent": 0, "delivered": 0, "failed": 0}
        for p in value.parts:
            bucket = {"sending": "queued", "expired": "failed", "unknown": "failed"}.get(
                p.status, p.status
            )
            if bucket in counts:
                counts[bucket] += 1
        body["delivery"] = counts | {"total": value.parts_total}
        body["parts"] = [part(p) for p in value.parts]
    return body


def history_entry(value: HistoryEntry) -> dict[str, Any]:
    body = message(value.message, value.since_start_s, value.sent_by)
    if value.opt_out_hint:
        body["opt_out_hint"] = True
    return body


def history(value: HistoryPage) -> dict[str, Any]:
    entries = [history_entry(entry) for entry in value.entries]
    return {
        "messages": entries,
        "has_more": value.has_more,
        "next_before": entries[0]["id"] if value.has_more and entries else None,
    }


def line(value: LineView) -> dict[str, Any]:
    health = value.health
    return {
        "id": value.line.id, "name": value.line.name, "number": value.line.number,
        "state": value.line.status, "signal": health.get("signal"),
        "registration": health.get("registration"), "queue_depth": value.queue_depth,
        "can_send": bool(health.get("can_send", False)), "last_error": health.get("last_error"),
        "last_inbound_at": time(value.last_inbound_at), "last_seen": time(value.line.last_seen),
        "node": value.node,
    }


def segments(value: SegmentCount) -> dict[str, Any]:
    return {
        "encoding": value.encoding, "parts": value.parts, "characters": value.characters,
        "characters_left": value.units_left, "units_used": value.units_used,
        "ucs2_characters": list(value.ucs2_characters), "max_parts": value.max_parts,
        "too_long": value.too_long,
    }


def token(value: ApiToken) -> dict[str, Any]:
    return {
        "id": value.id, "name": value.name, "scopes": list(value.scopes),
        "user_id": value.created_by, "created_at": time(value.created_at),
        "revoked": value.revoked, "last_used_at": time(value.last_used_at),
    }


def agent(value: AgentPresence) -> dict[str, Any]:
    return {
        "id": value.user_id, "username": value.username, "role": value.role,
        "online": value.online, "open_cases": value.open_cases,
        "last_seen": time(value.last_seen),
    }
