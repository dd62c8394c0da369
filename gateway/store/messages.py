"""Reading messages: one message, a contact's whole history across cases, a case's messages."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import Select, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.store import convert
from gateway.store.database import Database
from gateway.store.domain import Message
from gateway.store.errors import NotFoundError
from gateway.store.models import ContactRow, MessageRow, PartRow

DEFAULT_HISTORY_PAGE = 50


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


async def load_message(session: AsyncSession, message_id: int) -> Message:
    found = await load_messages(session, [message_id])
    if message_id not in found:
        raise NotFoundError("message", message_id)
    return found[message_id]


def _visible() -> Select[int]:
    # Inbound messages still waiting for parts are not shown until complete or released.
    return select(MessageRow.id).where(MessageRow.status != "receiving")


class MessageRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, message_id: int) -> Message:
        async with self._db.read() as session:
            return await load_message(session, message_id)

    async def find_by_client_id(self, client_id: str) -> Message | None:
        async with self._db.read() as session:
            mid = await session.scalar(
                select(MessageRow.id).where(MessageRow.client_id == client_id)
            )
            return (await load_messages(session, [mid]))[mid] if mid is not None else None

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

    async def for_case(self, case_id: int, with_parts: bool = True) -> list[Message]:
        query = (
            _visible()
            .where(MessageRow.case_id == case_id)
            .order_by(MessageRow.sort_at, MessageRow.id)
        )
        async with self._db.read() as session:
            ids = list(await session.scalars(query))
            return list((await load_messages(session, ids, with_parts=with_parts)).values())

    async def set_case(self, message_ids: Sequence[int], case_id: int | None) -> None:
        """File messages under a case (routing decides which)."""
        if not message_ids:
            return
        async with self._db.write() as session:
            await session.execute(
                update(MessageRow).where(MessageRow.id.in_(message_ids)).values(case_id=case_id)
            )
