"""The database schema as SQLAlchemy models; migrations in gateway/store/migrations follow it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# 64-bit on PostgreSQL; on SQLite it must be INTEGER to alias the rowid.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, on SQLite (which stores naive text) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the store only takes aware datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime(),
        dict[str, Any]: JSON(),
        list[str]: JSON(),
    }


class LineRow(Base):
    __tablename__ = "lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    number: Mapped[str | None] = mapped_column(String(32))
    iccid: Mapped[str | None] = mapped_column(String(32), index=True)
    imsi: Mapped[str | None] = mapped_column(String(32))
    imei: Mapped[str | None] = mapped_column(String(32))
    model: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str | None] = mapped_column(String(32))
    last_seen: Mapped[datetime | None]
    created_at: Mapped[datetime]


class ContactRow(Base):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)  # the key senders match by
    # Where replies go, exactly as the network gave it: text, type of number, numbering plan.
    address: Mapped[str | None] = mapped_column(String(32))
    address_ton: Mapped[int | None] = mapped_column(Integer)
    address_npi: Mapped[int | None] = mapped_column(Integer)
    name: Mapped[str | None] = mapped_column(String(200))
    opted_out: Mapped[bool] = mapped_column(Boolean, server_default=false())
    opted_out_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    notes: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[str] | None]
    street_address: Mapped[str | None] = mapped_column(Text)  # kept from an address search
    updated_at: Mapped[datetime | None]


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    disabled: Mapped[bool] = mapped_column(Boolean, server_default=false())
    created_at: Mapped[datetime]
    last_seen: Mapped[datetime | None]


class CaseRow(Base):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_contact_id_opened_at", "contact_id", "opened_at"),
        Index("ix_cases_status_agent_id", "status", "agent_id"),
        # At most one open case per contact: an outbound chat to a number reuses its open case.
        Index(
            "uq_cases_open_contact_id", "contact_id", unique=True,
            sqlite_where=text("status = 'open'"), postgresql_where=text("status = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    line_id: Mapped[int | None] = mapped_column(ForeignKey("lines.id"))
    status: Mapped[str] = mapped_column(String(16))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    address: Mapped[str | None] = mapped_column(Text)
    address_status: Mapped[str | None] = mapped_column(String(16))
    opened_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    wrap_up: Mapped[str | None] = mapped_column(String(64))
    summary: Mapped[str | None] = mapped_column(Text)


class MessageRow(Base):
    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_contact_id_sort_at_id", "contact_id", "sort_at", "id"),
        # Finds the message a new part belongs to.
        Index(
            "ix_messages_reassembly", "line_id", "contact_id", "concat_ref", "parts_total",
            "complete",
        ),
        Index("ix_messages_status", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    direction: Mapped[str] = mapped_column(String(3))
    line_id: Mapped[int] = mapped_column(ForeignKey("lines.id"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    text: Mapped[str | None] = mapped_column(Text)
    encoding: Mapped[str | None] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))
    is_text: Mapped[bool] = mapped_column(Boolean)
    placeholder_reason: Mapped[str | None] = mapped_column(Text)
    missing_parts: Mapped[str | None] = mapped_column(String(200))  # "2,3" once released
    parts_total: Mapped[int] = mapped_column(Integer)
    parts_received: Mapped[int] = mapped_column(Integer, server_default="0")
    complete: Mapped[bool] = mapped_column(Boolean)
    concat_ref: Mapped[int | None] = mapped_column(Integer)
    concat_ref_bits: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    scts: Mapped[datetime | None]
    received_at: Mapped[datetime | None]
    released_at: Mapped[datetime | None]
    queued_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    sort_at: Mapped[datetime]
    client_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class PartRow(Base):
    __tablename__ = "message_parts"
    __table_args__ = (
        # A re-read PDU (crash between commit and delete, SMSC retry) is the same row.
        UniqueConstraint("line_id", "dedupe_key"),
        UniqueConstraint("message_id", "seq"),
        Index("ix_message_parts_report", "line_id", "tp_mr", "status"),
        Index("ix_message_parts_due", "line_id", "status", "next_attempt_at"),
        Index("ix_message_parts_status", "status"),
        Index("ix_message_parts_receipt", "line_id", "smsc_message_id"),
        Index("ix_message_parts_redelivery", "line_id", "pdu_hash"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    message_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("messages.id", ondelete="CASCADE")
    )
    line_id: Mapped[int] = mapped_column(ForeignKey("lines.id"))
    seq: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)
    concat_ref: Mapped[int | None] = mapped_column(Integer)
    ref_bits: Mapped[int | None] = mapped_column(Integer)
    pdu: Mapped[str] = mapped_column(Text)
    tpdu_length: Mapped[int | None] = mapped_column(Integer)
    user_data: Mapped[bytes | None] = mapped_column(LargeBinary)
    text: Mapped[str | None] = mapped_column(Text)
    encoding: Mapped[str | None] = mapped_column(String(8))
    placeholder_reason: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    tp_mr: Mapped[int | None] = mapped_column(Integer)
    smsc_message_id: Mapped[str | None] = mapped_column(String(65))  # SMPP lines' TP-MR
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    pdu_hash: Mapped[str] = mapped_column(String(64))
    dedupe_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    sending_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]


class EventRow(Base):
    __tablename__ = "events"
    __table_args__ = ({"sqlite_autoincrement": True},)  # a seq is never reused

    seq: Mapped[int] = mapped_column(BigId, primary_key=True)
    type: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class RequestRow(Base):
    __tablename__ = "requests"
    __table_args__ = (
        Index("ix_requests_status_created_at", "status", "created_at"),
        # One pending request per contact: further texts join it instead of ringing again.
        Index(
            "uq_requests_pending_contact_id", "contact_id", unique=True,
            sqlite_where=text("status = 'pending'"), postgresql_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    line_id: Mapped[int] = mapped_column(ForeignKey("lines.id"))
    message_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("messages.id"))
    status: Mapped[str] = mapped_column(String(16))
    overdue: Mapped[bool] = mapped_column(Boolean, server_default=false())
    created_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))


class SessionRow(Base):
    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)


class ApiTokenRow(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    scopes: Mapped[list[str]]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    revoked: Mapped[bool] = mapped_column(Boolean, server_default=false())
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class AuditRow(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(200), index=True)
    details: Mapped[dict[str, Any]]
    at: Mapped[datetime] = mapped_column(index=True)


class WebhookDeliveryRow(Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_seq: Mapped[int] = mapped_column(BigId, ForeignKey("events.seq"))
    url: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # pending, delivered, failed
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]


class CaseNoteRow(Base):
    """An agent's internal note on a case: shown in the timeline, never sent."""

    __tablename__ = "case_notes"
    __table_args__ = (Index("ix_case_notes_case_id_id", "case_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class CannedReplyRow(Base):
    """A canned reply: shared (owner_id NULL, kept by supervisors) or an agent's own."""

    __tablename__ = "canned_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    shortcut: Mapped[str | None] = mapped_column(String(50))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CaseTransferRow(Base):
    """A case offered by its agent to another agent (to_agent_id) or back to the queue
    (request_id: the request whose answer takes the case over)."""

    __tablename__ = "case_transfers"
    __table_args__ = (
        Index("ix_case_transfers_case_id_status", "case_id", "status"),
        # One pending transfer per case.
        Index(
            "uq_case_transfers_pending_case_id", "case_id", unique=True,
            sqlite_where=text("status = 'pending'"), postgresql_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    from_agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    to_agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id"), index=True)
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # pending, accepted, declined, cancelled
    created_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]


class QuarantineRow(Base):
    """A message read from a modem that could not be stored after its retries; kept with its
    raw PDU so nothing is lost, and so the modem copy can be deleted and the line go on."""

    __tablename__ = "quarantine"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("lines.id"), index=True)
    pdu: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(index=True)


class LoginFailureRow(Base):
    """Failed logins counted per username and client address, per username and per address
    (gateway.service.ratelimit), shared by every node of a cluster and kept over restarts. An
    absent username or address is stored as ''."""

    __tablename__ = "login_failures"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    username: Mapped[str] = mapped_column(String(200), primary_key=True)
    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_at: Mapped[datetime] = mapped_column(index=True)


class ClusterNodeRow(Base):
    """A gateway host of a cluster (`node.name`), with the heartbeat of its running instance."""

    __tablename__ = "cluster_nodes"

    name: Mapped[str] = mapped_column(String(63), primary_key=True)
    instance: Mapped[str] = mapped_column(String(36))  # changes at every start
    http_url: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime]
    last_seen: Mapped[datetime]
    # User id (as text) -> consoles open on this node, written at each heartbeat: the other
    # nodes take an agent as online while a live node says so.
    consoles: Mapped[dict[str, int] | None] = mapped_column(JSON)


class LeaseRow(Base):
    """Who may act for a while: `line:ID` (the node that sends on a line) or `duties` (the node
    that does the once-per-cluster work). Held until `expires_at` unless renewed."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    line_id: Mapped[int | None] = mapped_column(ForeignKey("lines.id"), unique=True)
    node: Mapped[str] = mapped_column(String(63))
    instance: Mapped[str] = mapped_column(String(36))
    acquired_at: Mapped[datetime]
    expires_at: Mapped[datetime]
