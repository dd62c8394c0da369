"""Lines: one per modem, named in config, identified by their SIM rather than their tty path."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, update

from gateway.store import convert, sql, tables
from gateway.store.database import Database, utc_now
from gateway.store.domain import Line, LineUpdate
from gateway.store.errors import NotFoundError
from gateway.store.events import insert_event
from gateway.store.models import LineRow

_L = tables.lines
_STATUS = select(_L.c.status).where(_L.c.id == bindparam("line_id"))
_SET_STATUS = (
    update(_L)
    .where(_L.c.id == bindparam("line_id"))
    .values(status=bindparam("status"), last_seen=bindparam("now", type_=_L.c.last_seen.type))
    .returning(*_L.c)
)
# None leaves a field as it is.
_SET_IDENTITY = (
    update(_L)
    .where(_L.c.id == bindparam("line_id"))
    .values({
        field: func.coalesce(bindparam(f"new_{field}", type_=_L.c[field].type), _L.c[field])
        for field in ("iccid", "imsi", "imei", "model")
    })
    .returning(*_L.c)
)


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
        params = {"line_id": line_id, "new_iccid": iccid, "new_imsi": imsi, "new_imei": imei,
                  "new_model": model}

        def write(connection: Connection) -> Line:
            row = sql.first(connection, _SET_IDENTITY, params)
            if row is None:
                raise NotFoundError("line", line_id)
            return convert.line(row)

        return await self._db.run_write(write)

    async def set_status(
        self,
        line_id: int,
        status: str,
        now: datetime | None = None,
        details: dict[str, Any] | None = None,
    ) -> LineUpdate:
        """Store the line's state; a line.status event is appended only when it changed."""
        at = now or utc_now()

        def write(connection: Connection) -> LineUpdate:
            before = sql.first(connection, _STATUS, {"line_id": line_id})
            if before is None:
                raise NotFoundError("line", line_id)
            params = {"line_id": line_id, "status": status, "now": at}
            row = sql.one(connection, _SET_STATUS, params)
            line = convert.line(row)
            event = None
            if before.status != status:
                event = insert_event(
                    connection, "line.status", {**convert.line_data(line), **(details or {})}, at
                )
            return LineUpdate(line=line, event=event)

        return await self._db.run_write(write)

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
