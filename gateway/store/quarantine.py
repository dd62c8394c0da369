"""The quarantine: inbound messages that could not be stored after their retries.

Each row keeps the raw PDU as the modem gave it and the reason the store refused it, so nothing
is lost while the modem copy is deleted and the line goes on. Admins see the rows through the
API (GET /api/quarantine) and `sms-gateway quarantine`; /metrics counts them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Connection, Table, bindparam, func, insert, select

from gateway.store import sql
from gateway.store.database import Database
from gateway.store.models import QuarantineRow
from gateway.store.storable import storable_text

MAX_REASON_CHARS = 2000
_Q = cast(Table, QuarantineRow.__table__)
_INSERT = insert(_Q).returning(*_Q.c)
_COUNT = select(func.count()).select_from(_Q)


@dataclass(frozen=True, slots=True)
class QuarantinedMessage:
    id: int
    line_id: int
    pdu: str
    reason: str
    attempts: int
    created_at: datetime


def _quarantined(row: object) -> QuarantinedMessage:
    return QuarantinedMessage(
        id=row.id, line_id=row.line_id, pdu=row.pdu, reason=row.reason,  # type: ignore[attr-defined]
        attempts=row.attempts, created_at=row.created_at,  # type: ignore[attr-defined]
    )


class QuarantineRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self, line_id: int, pdu: str, reason: str, *, attempts: int, now: datetime
    ) -> QuarantinedMessage:
        """Commit one quarantined message; when this returns the modem copy may be deleted."""
        values = {
            "line_id": line_id, "pdu": storable_text(pdu),
            "reason": storable_text(reason)[:MAX_REASON_CHARS], "attempts": attempts,
            "created_at": now,
        }
        row = await self._db.run_write(lambda c: sql.one(c, _INSERT, values))
        return _quarantined(row)

    async def recent(
        self, *, limit: int = 100, before_id: int | None = None
    ) -> list[QuarantinedMessage]:
        """Newest first."""
        statement = select(*_Q.c).order_by(_Q.c.id.desc()).limit(limit)
        if before_id is not None:
            statement = statement.where(_Q.c.id < bindparam("before"))

        def read(connection: Connection) -> list[QuarantinedMessage]:
            found = connection.execute(statement, {"before": before_id}).all()
            return [_quarantined(row) for row in found]

        return await self._db.run_read(read)

    async def count(self) -> int:
        found: int = await self._db.run_read(lambda c: int(sql.value(c, _COUNT) or 0))
        return found
