"""The append-only event log: every change that matters gets a seq the API can resume from."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.store import convert, sql, tables
from gateway.store.database import EVENT_LOG_LOCK_KEY, Database, utc_now
from gateway.store.domain import Event

DEFAULT_EVENTS_PAGE = 500
_LOCKED = "gateway_event_log_locked"

_EVENTS = tables.events
_LOCK = text("SELECT pg_advisory_xact_lock(:key)")
_INSERT = insert(_EVENTS).returning(_EVENTS.c.seq, sort_by_parameter_order=True)
_SINCE = (
    select(*_EVENTS.c)
    .where(_EVENTS.c.seq > bindparam("seq"))
    .order_by(_EVENTS.c.seq)
    .limit(bindparam("limit"))
)
_LATEST_OF_TYPE = (
    select(*_EVENTS.c)
    .where(_EVENTS.c.type == bindparam("type"))
    .order_by(_EVENTS.c.seq.desc())
    .limit(bindparam("limit"))
)
_LAST_SEQ = select(func.coalesce(func.max(_EVENTS.c.seq), 0))
_FIRST_SEQ = select(func.min(_EVENTS.c.seq))


async def append_event(
    session: AsyncSession, type_: str, data: dict[str, Any], now: datetime
) -> Event:
    """Append in the caller's transaction, so the event exists exactly when the change does."""
    [event] = await append_events(session, [(type_, data)], now)
    return event


async def append_events(
    session: AsyncSession, events: Sequence[tuple[str, dict[str, Any]]], now: datetime
) -> list[Event]:
    """Append several events, in order, in the session's transaction. Pending changes of the
    session are flushed first, so they come before the events in the log."""
    if not events:
        return []
    await session.flush()
    connection = await session.connection()
    return await connection.run_sync(lambda c: insert_events(c, events, now))


def insert_events(
    connection: Connection, events: Sequence[tuple[str, dict[str, Any]]], now: datetime
) -> list[Event]:
    """append_events for an operation run by Database.run_write: in its transaction."""
    if not events:
        return []
    if connection.dialect.name == "postgresql":
        # As in append_events; connection.info outlives the transaction, so remember which
        # transaction holds the lock.
        transaction = connection.get_transaction()
        if connection.info.get(_LOCKED) is not transaction:
            sql.rows(connection, _LOCK, {"key": EVENT_LOG_LOCK_KEY})
            connection.info[_LOCKED] = transaction
    params = [{"type": type_, "data": data, "created_at": now} for type_, data in events]
    if len(params) == 1:
        rows = sql.rows(connection, _INSERT, params[0])
    else:
        rows = sql.execute_many(connection, _INSERT, params)
    # The values in hand, as the ORM gives them after an insert: only seq comes back.
    return [
        Event(seq=row.seq, type=type_, data=data, created_at=now)
        for row, (type_, data) in zip(rows, events, strict=True)
    ]


def insert_event(
    connection: Connection, type_: str, data: dict[str, Any], now: datetime
) -> Event:
    [event] = insert_events(connection, [(type_, data)], now)
    return event


class EventRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def append(
        self, type_: str, data: dict[str, Any], now: datetime | None = None
    ) -> Event:
        at = now or utc_now()
        return await self._db.run_write(lambda c: insert_event(c, type_, data, at))

    async def since(self, seq: int, limit: int = DEFAULT_EVENTS_PAGE) -> list[Event]:
        """Events after `seq`, oldest first, at most `limit`."""

        def read(connection: Connection) -> list[Event]:
            rows = sql.rows(connection, _SINCE, {"seq": seq, "limit": limit})
            return [convert.event(row) for row in rows]

        return await self._db.run_read(read)

    async def latest_per(self, type_: str, key: str, scan: int = 5000) -> dict[Any, Event]:
        """The newest event of `type_` for each value of its data's `key`, among the `scan`
        newest of that type (what a node starting now knows of, say, each line's state)."""

        def read(connection: Connection) -> dict[Any, Event]:
            latest: dict[Any, Event] = {}
            for row in sql.rows(connection, _LATEST_OF_TYPE, {"type": type_, "limit": scan}):
                event = convert.event(row)
                value = event.data.get(key)
                if value is not None and value not in latest:
                    latest[value] = event
            return latest

        return await self._db.run_read(read)

    async def last_seq(self) -> int:
        """The newest seq, 0 when the log is empty."""
        return await self._db.run_read(lambda c: int(sql.value(c, _LAST_SEQ) or 0))

    async def first_seq(self) -> int | None:
        """The oldest seq still in the log (None when empty), to tell a client to resync."""

        def read(connection: Connection) -> int | None:
            value = sql.value(connection, _FIRST_SEQ)
            return int(value) if value is not None else None

        return await self._db.run_read(read)
