"""The audit log: who did what to which target, and when. Append-only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.store import convert
from gateway.store.database import Database, utc_now
from gateway.store.domain import AuditEntry
from gateway.store.models import AuditRow


async def append_audit(
    session: AsyncSession,
    user_id: int | None,
    action: str,
    target: str | None,
    details: dict[str, Any] | None,
    now: datetime,
) -> AuditEntry:
    """Append in the caller's transaction, so the entry exists exactly when the change does."""
    row = AuditRow(user_id=user_id, action=action, target=target, details=details or {}, at=now)
    session.add(row)
    await session.flush()
    return convert.audit(row)


class AuditRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(
        self,
        user_id: int | None,
        action: str,
        target: str | None = None,
        details: dict[str, Any] | None = None,
        now: datetime | None = None,
    ) -> AuditEntry:
        """`action` such as "message.send", "request.answer", "case.close", "case.reassign";
        `target` such as "case:12"."""
        async with self._db.write() as session:
            return await append_audit(session, user_id, action, target, details, now or utc_now())

    async def recent(
        self, limit: int = 100, target: str | None = None, user_id: int | None = None
    ) -> list[AuditEntry]:
        """Newest first."""
        query = select(AuditRow)
        if target is not None:
            query = query.where(AuditRow.target == target)
        if user_id is not None:
            query = query.where(AuditRow.user_id == user_id)
        async with self._db.read() as session:
            rows = await session.scalars(query.order_by(AuditRow.id.desc()).limit(limit))
            return [convert.audit(row) for row in rows]
