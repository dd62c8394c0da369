"""What the workflow hands to its callers: domain values joined with what an agent is shown."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gateway.service.phone import cannot_reply_reason, reply_address, sender_kind
from gateway.sms.model import Address
from gateway.store.domain import Case, ChatRequest, Contact, Line, Message, User

REQUEST_NAME = "SMS Chat Request"


def call_id(phone: str) -> str:
    """The Call ID a request shows, like a phone call's: `SMS+15551234567`."""
    return f"SMS{phone}"


@dataclass(frozen=True, slots=True)
class SenderView:
    """The customer's address as the network gave it, and whether replies can reach it."""

    address: str  # exactly as received (or as dialled): digits, '+' and digits, or a name
    type: str  # the type of number: international, national, unknown, alphanumeric, ...
    kind: str  # international, national, short_code, alphanumeric or other
    cannot_reply_reason: str | None  # a sentence when nothing can be sent to it


@dataclass(frozen=True, slots=True)
class CaseSummary:
    """A contact's most recent case, shown in a request so the agent can offer to continue it."""

    id: int
    status: str
    opened_at: datetime
    closed_at: datetime | None
    closed_by: str | None  # username
    agent: str | None  # username


@dataclass(frozen=True, slots=True)
class RequestView:
    request: ChatRequest
    line: Line | None
    preview: str
    recent_case: CaseSummary | None
    opted_out: bool
    contact_name: str | None = None
    sender: SenderView | None = None
    away_agent: str | None = None  # the away agent whose open case this text arrived in


@dataclass(frozen=True, slots=True)
class CaseView:
    case: Case
    agent: str | None  # username
    closed_by: str | None
    line: Line | None
    opted_out: bool
    address_error: str | None  # why the address search gave nothing, when it failed
    contact_name: str | None = None
    # The oldest text of the customer no reply followed (open cases), and whether that is
    # longer ago than cases.reply_overdue_s.
    waiting_since: datetime | None = None
    reply_overdue: bool = False
    sender: SenderView | None = None


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    message: Message
    # Seconds from the start of the interaction (the first message of its case, or of the
    # history when it is in no case) to this message.
    since_start_s: float
    sent_by: str | None = None  # the username of the agent who sent it (outbound)
    # An inbound text with an opt-out word inside a sentence ("stop, thank you"): a hint.
    opt_out_hint: bool = False


@dataclass(frozen=True, slots=True)
class HistoryPage:
    entries: tuple[HistoryEntry, ...]  # oldest first
    has_more: bool  # older messages exist; ask again with before=<first entry's id>


@dataclass(frozen=True, slots=True)
class AnswerView:
    case: CaseView
    history: HistoryPage


@dataclass(frozen=True, slots=True)
class SendResult:
    message: Message
    created: bool  # False when a retried Send named a message already queued


@dataclass(frozen=True, slots=True)
class LineView:
    line: Line
    queue_depth: int
    last_inbound_at: datetime | None
    health: dict[str, Any]  # the latest line.status details (signal, registration, ...)
    node: str | None = None  # in a cluster: the node whose modem holds the line now


@dataclass(frozen=True, slots=True)
class AgentPresence:
    user_id: int
    username: str
    role: str
    online: bool
    open_cases: int
    last_seen: datetime | None


def sender_view(contact: Contact) -> SenderView:
    """The contact's reply address as the API shows it, and why it cannot be written to."""
    return sender_view_of(reply_address(contact))


def sender_view_of(address: Address) -> SenderView:
    return SenderView(address.number, address.type.value, sender_kind(address),
                      cannot_reply_reason(address))


def case_summary(case: Case, users: dict[int, User]) -> CaseSummary:
    return CaseSummary(
        id=case.id, status=case.status, opened_at=case.opened_at, closed_at=case.closed_at,
        closed_by=users[case.closed_by].username if case.closed_by in users else None,
        agent=users[case.agent_id].username if case.agent_id in users else None,
    )


@dataclass(frozen=True, slots=True)
class RequestPageView:
    requests: tuple[RequestView, ...]  # oldest first
    count: int  # every request the caller may answer, on all pages
    oldest: RequestView | None  # the first of all pages: who has waited longest
    has_more: bool  # newer requests follow; ask again with after=<last request's id>


@dataclass(frozen=True, slots=True)
class CasePageView:
    cases: tuple[CaseView, ...]  # newest first
    count: int  # every case the filter matches, on all pages
    has_more: bool  # older cases follow; ask again with before=<last case's id>
