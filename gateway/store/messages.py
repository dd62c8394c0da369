"""Reading messages: one message, by id or by client_id, and a contact's whole history across
cases."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection, Select, and_, bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.store import convert, sql, tables
from gateway.store.convert import AnyRow
from gateway.store.database import Database
from gateway.store.domain import Message
from gateway.store.errors import NotFoundError
from gateway.store.models import ContactRow, MessageRow, PartRow

DEFAULT_HISTORY_PAGE = 50

_M, _P, _C = tables.messages, tables.parts, tables.contacts
_WITH_PHONE = (
    select(*_M.c, _C.c.number.label("phone"))
    .outerjoin(_C, _C.c.id == _M.c.contact_id)
    .where(_M.c.id.in_(bindparam("ids", expanding=True)))
)
_PARTS_OF = (
    select(*_P.c).where(_P.c.message_id.in_(bindparam("ids", expanding=True))).order_by(_P.c.seq)
)
_BY_CLIENT_ID = select(_M.c.id).where(_M.c.client_id == bindparam("client_id"))


def read_messages(
    connection: Connection, ids: Iterable[int], with_parts: bool = True
) -> dict[int, Message]:
    """load_messages for an operation run by Database.run_read / run_write."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return {}
    rows = sql.rows(connection, _WITH_PHONE, {"ids": wanted})
    parts: dict[int, list[AnyRow]] = {}
    if with_parts:
        for part in sql.rows(connection, _PARTS_OF, {"ids": wanted}):
            parts.setdefault(part.message_id, []).append(part)
    found = {row.id: convert.message(row, row.phone, parts.get(row.id, ())) for row in rows}
    return {mid: found[mid] for mid in wanted if mid in found}


def read_message(connection: Connection, message_id: int) -> Message:
    found = read_messages(connection, [message_id])
    if message_id not in found:
        raise NotFoundError("message", message_id)
    return found[message_id]


def message_id_for_client(connection: Connection, client_id: str) -> int | None:
    value = sql.value(connection, _BY_CLIENT_ID, {"client_id": client_id})
    return int(value) if value is not None else None


async def load_messages(
    session: AsyncSession, ids: Iterable[int], with_parts: bool = True
) -> dict[int, Message]:
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return {}
    rows = (
        await session.execute(
            select(MessageRow, ContactRow.number)
            .outerjoin(ContactRow, ContactRow.id == MessageRow.contact_id)
            .where(MessageRow.id.in_(wanted))
        )
    ).all()
    parts: dict[int, list[PartRow]] = {}
    if with_parts:
        for part in await session.scalars(
            select(PartRow).where(PartRow.message_id.in_(wanted)).order_by(PartRow.seq)
        ):
            parts.setdefault(part.message_id, []).append(part)
    found = {row.id: convert.message(row, phone, parts.get(row.id, ())) for row, phone in rows}
    return {mid: found[mid] for mid in wanted if mid in found}


def _visible() -> Select[int]:
    # Inbound messages still waiting for parts are not shown until complete or released.
    return select(MessageRow.id).where(MessageRow.status != "receiving")


class MessageRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, message_id: int) -> Message:
        return await self._db.run_read(lambda c: read_message(c, message_id))

    async def find_by_client_id(self, client_id: str) -> Message | None:
        def read(connection: Connection) -> Message | None:
            mid = message_id_for_client(connection, client_id)
            return read_messages(connection, [mid])[mid] if mid is not None else None

        return await self._db.run_read(read)

    async def history(
        self,
        contact_id: int,
        *,
        before: tuple[datetime, int] | None = None,
        limit: int = DEFAULT_HISTORY_PAGE,
        with_parts: bool = True,
    ) -> list[Message]:
        """Every shown message with this contact, across all cases and lines, oldest first.

        Pages go backwards: `before` is the (sort_at, id) of the oldest message already shown,
        and the page returned is the `limit` messages just before it.
        """
        query = _visible().where(MessageRow.contact_id == contact_id)
        if before is not None:
            sort_at, mid = before
            query = query.where(
                or_(
                    MessageRow.sort_at < sort_at,
                    and_(MessageRow.sort_at == sort_at, MessageRow.id < mid),
                )
            )
        query = query.order_by(MessageRow.sort_at.desc(), MessageRow.id.desc()).limit(limit)
        async with self._db.read() as session:
            ids = list(await session.scalars(query))
            found = await load_messages(session, reversed(ids), with_parts=with_parts)
            return list(found.values())
