"""The append-only event log: every change that matters gets a seq the API can resume from."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.store import convert
from gateway.store.database import EVENT_LOG_LOCK_KEY, Database, utc_now
from gateway.store.domain import Event
from gateway.store.models import EventRow

DEFAULT_EVENTS_PAGE = 500
_LOCKED = "gateway_event_log_locked"


async def append_event(
    session: AsyncSession, type_: str, data: dict[str, Any], now: datetime
) -> Event:
    """Append in the caller's transaction, so the event exists exactly when the change does."""
    [event] = await append_events(session, [(type_, data)], now)
    return event


async def append_events(
    session: AsyncSession, events: Sequence[tuple[str, dict[str, Any]]], now: datetime
) -> list[Event]:
    """Append several events, in order, with one statement."""
    if not events:
        return []
    if session.get_bind().dialect.name == "postgresql" and not session.info.get(_LOCKED):
        # Sequence values are handed out at insert but become visible at commit; without this
        # lock a reader could see seq 6 before 5 commits and skip 5 forever. Held to commit.
        await session.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": EVENT_LOG_LOCK_KEY}
        )
        session.info[_LOCKED] = True
    rows = [EventRow(type=type_, data=data, created_at=now) for type_, data in events]
    session.add_all(rows)
    await session.flush()
    return [convert.event(row) for row in rows]


class EventRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def append(
        self, type_: str, data: dict[str, Any], now: datetime | None = None
    ) -> Event:
        async with self._db.write() as session:
            return await append_event(session, type_, data, now or utc_now())

    async def since(self, seq: int, limit: int = DEFAULT_EVENTS_PAGE) -> list[Event]:
        """Events after `seq`, oldest first, at most `limit`."""
        async with self._db.read() as session:
            rows = await session.scalars(
                select(EventRow).where(EventRow.seq > seq).order_by(EventRow.seq).limit(limit)
            )
            return [convert.event(row) for row in rows]

    async def last_seq(self) -> int:
        """The newest seq, 0 when the log is empty."""
        async with self._db.read() as session:
            return int(await session.scalar(select(func.coalesce(func.max(EventRow.seq), 0))) or 0)

    async def first_seq(self) -> int | None:
        """The oldest seq still in the log (None when empty), to tell a client to resync."""
        async with self._db.read() as session:
            value = await session.scalar(select(func.min(EventRow.seq)))
            return int(value) if value is not None else None
