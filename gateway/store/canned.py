"""Canned replies: texts an agent inserts into the composer (never sent by themselves)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select

from gateway.store.accounts import add_audit
from gateway.store.database import Database
from gateway.store.errors import NotFoundError
from gateway.store.models import CannedReplyRow


@dataclass(frozen=True, slots=True)
class CannedReply:
    id: int
    owner_id: int | None  # None: shared
    title: str
    text: str
    shortcut: str | None
    created_by: int | None
    created_at: datetime
    updated_at: datetime

    @property
    def shared(self) -> bool:
        return self.owner_id is None


def _reply(row: CannedReplyRow) -> CannedReply:
    return CannedReply(
        id=row.id, owner_id=row.owner_id, title=row.title, text=row.text, shortcut=row.shortcut,
        created_by=row.created_by, created_at=row.created_at, updated_at=row.updated_at,
    )


class CannedReplyRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def visible_to(self, user_id: int) -> list[CannedReply]:
        """The shared replies and the user's own, by title."""
        async with self._db.read() as session:
            rows = await session.scalars(
                select(CannedReplyRow)
                .where(or_(CannedReplyRow.owner_id.is_(None),
                           CannedReplyRow.owner_id == user_id))
                .order_by(CannedReplyRow.title, CannedReplyRow.id)
            )
            return [_reply(row) for row in rows]

    async def get(self, reply_id: int) -> CannedReply:
        async with self._db.read() as session:
            row = await session.get(CannedReplyRow, reply_id)
            if row is None:
                raise NotFoundError("canned reply", reply_id)
            return _reply(row)

    async def create(
        self, *, owner_id: int | None, title: str, text: str, shortcut: str | None, by: int,
        now: datetime,
    ) -> CannedReply:
        async with self._db.write() as session:
            row = CannedReplyRow(owner_id=owner_id, title=title, text=text, shortcut=shortcut,
                                 created_by=by, created_at=now, updated_at=now)
            session.add(row)
            await session.flush()
            add_audit(session, user_id=by, action="canned.create", target=f"canned:{row.id}",
                      details={"shared": owner_id is None, "title": title}, now=now)
            return _reply(row)

    async def update(
        self, reply_id: int, *, title: str, text: str, shortcut: str | None, by: int,
        now: datetime,
    ) -> CannedReply:
        async with self._db.write() as session:
            row = await session.get(CannedReplyRow, reply_id)
            if row is None:
                raise NotFoundError("canned reply", reply_id)
            row.title, row.text, row.shortcut, row.updated_at = title, text, shortcut, now
            await session.flush()
            add_audit(session, user_id=by, action="canned.update", target=f"canned:{reply_id}",
                      details={"shared": row.owner_id is None}, now=now)
            return _reply(row)

    async def delete(self, reply_id: int, by: int, now: datetime) -> None:
        async with self._db.write() as session:
            row = await session.get(CannedReplyRow, reply_id)
            if row is None:
                raise NotFoundError("canned reply", reply_id)
            await session.delete(row)
            add_audit(session, user_id=by, action="canned.delete", target=f"canned:{reply_id}",
                      details={"shared": row.owner_id is None, "title": row.title}, now=now)
