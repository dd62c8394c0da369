"""Plain frozen values the store returns and accepts; callers never see ORM rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from gateway.sms.model import Concat

Direction = Literal["in", "out"]
# Inbound messages are `receiving` until every part is in or they are released with a marker.
MessageStatus = Literal[
    "receiving", "received", "queued", "sending", "sent", "delivered", "failed", "expired",
    "unknown",
]
PartStatus = Literal[
    "received", "queued", "sending", "sent", "delivered", "failed", "expired", "unknown"
]
FINAL_PART_STATUSES: frozenset[str] = frozenset({"delivered", "failed", "expired"})
CaseStatus = Literal["open", "closed"]
RequestStatus = Literal["pending", "answered", "cancelled"]
Role = Literal["agent", "supervisor", "admin"]
AddressStatus = Literal["pending", "found", "not_found", "error"]


@dataclass(frozen=True, slots=True)
class Line:
    id: int
    name: str
    number: str | None
    iccid: str | None
    imsi: str | None
    imei: str | None
    model: str | None
    status: str | None
    last_seen: datetime | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Contact:
    id: int
    number: str  # E.164 when it could be normalised; alphanumeric senders are kept as sent
    name: str | None
    opted_out: bool
    opted_out_at: datetime | None
    created_at: datetime
    # Where replies go, exactly as the network gave it (None: implied by `number`).
    address: str | None = None
    address_ton: int | None = None
    address_npi: int | None = None


@dataclass(frozen=True, slots=True)
class Part:
    id: int
    message_id: int
    seq: int
    total: int
    concat_ref: int | None
    ref_bits: int | None
    pdu: str
    tpdu_length: int | None
    text: str | None
    status: PartStatus
    tp_mr: int | None
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    pdu_hash: str
    created_at: datetime
    sending_at: datetime | None
    sent_at: datetime | None
    done_at: datetime | None
    smsc_message_id: str | None = None  # what an SMPP line's SMSC calls the part


@dataclass(frozen=True, slots=True)
class Message:
    id: int
    direction: Direction
    line_id: int
    contact_id: int | None  # None only for an inbound PDU whose sender could not be read
    phone: str | None  # the contact's number
    text: str | None  # None when the content is not text; see placeholder_reason
    encoding: str | None
    status: MessageStatus
    is_text: bool
    placeholder_reason: str | None
    missing_parts: tuple[int, ...]  # seqs still missing from a released inbound message
    parts_total: int
    error: str | None
    scts: datetime | None
    received_at: datetime | None
    queued_at: datetime | None
    sent_at: datetime | None
    delivered_at: datetime | None
    client_id: str | None
    case_id: int | None
    created_by: int | None
    sort_at: datetime  # SCTS for inbound, queue time for outbound: the display order
    parts: tuple[Part, ...] = ()


@dataclass(frozen=True, slots=True)
class Event:
    seq: int
    type: str
    data: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class InboundPart:
    """One SMS-DELIVER as read from a modem, decoded as far as possible.

    `user_data` is the part's user data without its header (UTF-16-BE bytes for ucs2), so that a
    character split across two parts is joined before decoding. `text` is None for binary or
    undecodable content, with `placeholder_reason` saying why.
    """

    pdu: str  # hex exactly as the modem gave it
    sender: str  # '' when the PDU could not be read at all
    scts: datetime | None
    encoding: str | None
    text: str | None
    user_data: bytes = b""
    concat: Concat | None = None
    placeholder_reason: str | None = None
    sender_ton: int | None = None  # the originator's type of number and numbering plan
    sender_npi: int | None = None

    @classmethod
    def undecodable(cls, pdu: str, reason: str) -> InboundPart:
        return cls(pdu=pdu, sender="", scts=None, encoding=None, text=None,
                   placeholder_reason=reason)


@dataclass(frozen=True, slots=True)
class InboundResult:
    """What `record_inbound` committed: after it returns, every part given is durably stored."""

    new_parts: int
    duplicate_parts: int
    messages: tuple[Message, ...]  # messages created or changed, in the order first touched
    events: tuple[Event, ...]


@dataclass(frozen=True, slots=True)
class QueueResult:
    message: Message
    created: bool  # False when client_id named an existing message
    events: tuple[Event, ...]


@dataclass(frozen=True, slots=True)
class PartUpdate:
    part: Part
    message: Message
    event: Event


@dataclass(frozen=True, slots=True)
class LineUpdate:
    line: Line
    event: Event | None  # None when nothing changed


@dataclass(frozen=True, slots=True)
class Case:
    id: int
    contact_id: int
    phone: str
    line_id: int | None
    status: CaseStatus
    agent_id: int | None
    address: str | None
    address_status: AddressStatus | None
    opened_at: datetime
    closed_at: datetime | None
    closed_by: int | None
    wrap_up: str | None = None  # the code chosen at the last close
    summary: str | None = None


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """An SMS Chat Request: a text from a number with no open case, waiting for an agent."""

    id: int
    contact_id: int
    phone: str
    line_id: int
    message_id: int | None
    status: RequestStatus
    overdue: bool
    created_at: datetime
    answered_at: datetime | None
    answered_by: int | None
    case_id: int | None


@dataclass(frozen=True, slots=True)
class ListedCase:
    """A case with what a list of cases shows beside it, read in the same query."""

    case: Case
    line: Line | None
    agent: str | None  # username
    closed_by: str | None  # username
    opted_out: bool
    # The contact's address as the network gave it: text, type of number, numbering plan.
    address: tuple[str | None, int | None, int | None] = (None, None, None)


@dataclass(frozen=True, slots=True)
class CasePage:
    cases: tuple[ListedCase, ...]  # newest first
    count: int  # every case the filter matches, on all pages
    has_more: bool  # older cases follow the last one


@dataclass(frozen=True, slots=True)
class WaitingRequest:
    """A pending request with what the queue shows beside it, read in the same query: its line,
    its newest text, the contact's opt-out flag and the contact's most recent case."""

    request: ChatRequest
    line: Line | None
    text: str | None
    is_text: bool
    placeholder_reason: str | None
    opted_out: bool
    recent_case: ListedCase | None
    address: tuple[str | None, int | None, int | None] = (None, None, None)


@dataclass(frozen=True, slots=True)
class RequestPage:
    requests: tuple[WaitingRequest, ...]  # oldest first
    count: int  # every pending request the filter matches, on all pages
    oldest: WaitingRequest | None  # the first of all pages
    has_more: bool  # newer requests follow the last one


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    role: Role
    password_hash: str
    disabled: bool
    created_at: datetime
    last_seen: datetime | None


@dataclass(frozen=True, slots=True)
class Session:
    id: int
    user_id: int
    token_hash: str
    csrf_token: str
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ApiToken:
    id: int
    name: str
    token_hash: str
    scopes: tuple[str, ...]
    created_by: int | None
    created_at: datetime
    revoked: bool
    revoked_at: datetime | None
    last_used_at: datetime | None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    user_id: int | None
    action: str
    target: str | None
    details: dict[str, Any]
    at: datetime


RouteKind = Literal["attached", "request_created", "request_updated", "skipped"]


@dataclass(frozen=True, slots=True)
class CaseChange:
    """A case after a change, and the events to publish once it is committed (none when an open
    case was reused as it was)."""

    case: Case
    events: tuple[Event, ...]
    created: bool = False


@dataclass(frozen=True, slots=True)
class RouteOutcome:
    """Where routing filed an inbound message: its contact's open case, the contact's pending
    request (updated or created), or nowhere (already routed, or not a customer's text)."""

    kind: RouteKind
    message_id: int
    case: Case | None = None
    request: ChatRequest | None = None
    events: tuple[Event, ...] = ()


@dataclass(frozen=True, slots=True)
class AnswerOutcome:
    """The winning answer to a request: the request, its case, and the events to publish."""

    request: ChatRequest
    case: Case
    events: tuple[Event, ...]
