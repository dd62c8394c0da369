"""Lines: one per modem, named in config, identified by their SIM rather than their tty path."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from gateway.store import convert
from gateway.store.database import Database, utc_now
from gateway.store.domain import Line, LineUpdate
from gateway.store.errors import NotFoundError
from gateway.store.events import append_event
from gateway.store.models import LineRow


class LineRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def ensure(
        self, name: str, number: str | None = None, now: datetime | None = None
    ) -> Line:
        """The line configured as `name`, created on first start; the published number follows
        config."""
        async with self._db.write() as session:
            row = await session.scalar(select(LineRow).where(LineRow.name == name))
            if row is None:
                row = LineRow(name=name, number=number, created_at=now or utc_now())
                session.add(row)
                await session.flush()
            elif number is not None and row.number != number:
                row.number = number
            return convert.line(row)

    async def update_identity(
        self,
        line_id: int,
        *,
        iccid: str | None = None,
        imsi: str | None = None,
        imei: str | None = None,
        model: str | None = None,
    ) -> Line:
        """Record what the modem said about itself at init; None leaves a field unchanged."""
        async with self._db.write() as session:
            row = await session.get(LineRow, line_id)
            if row is None:
                raise NotFoundError("line", line_id)
            for field, value in (("iccid", iccid), ("imsi", imsi), ("imei", imei),
                                 ("model", model)):
                if value is not None:
                    setattr(row, field, value)
            return convert.line(row)

    async def set_status(
        self,
        line_id: int,
        status: str,
        now: datetime | None = None,
        details: dict[str, Any] | None = None,
    ) -> LineUpdate:
        """Store the line's state; a line.status event is appended only when it changed."""
        now = now or utc_now()
        async with self._db.write() as session:
            row = await session.get(LineRow, line_id)
            if row is None:
                raise NotFoundError("line", line_id)
            changed = row.status != status
            row.status = status
            row.last_seen = now
            await session.flush()
            line = convert.line(row)
            event = None
            if changed:
                event = await append_event(
                    session, "line.status", {**convert.line_data(line), **(details or {})}, now
                )
            return LineUpdate(line=line, event=event)

    async def get(self, line_id: int) -> Line:
        async with self._db.read() as session:
            row = await session.get(LineRow, line_id)
            if row is None:
                raise NotFoundError("line", line_id)
            return convert.line(row)

    async def find_by_name(self, name: str) -> Line | None:
        async with self._db.read() as session:
            row = await session.scalar(select(LineRow).where(LineRow.name == name))
            return convert.line(row) if row is not None else None

    async def find_by_iccid(self, iccid: str) -> Line | None:
        async with self._db.read() as session:
            row = await session.scalar(
                select(LineRow).where(LineRow.iccid == iccid).order_by(LineRow.id).limit(1)
            )
            return convert.line(row) if row is not None else None

    async def list_all(self) -> list[Line]:
        async with self._db.read() as session:
            rows = await session.scalars(select(LineRow).order_by(LineRow.name))
            return [convert.line(row) for row in rows]
