"""Failover: moving replies that have not started to go out from a line that cannot send to one
that can. Only messages none of whose parts has left are moved: the parts of one message must
come from one number, or the customer's phone cannot join them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select, update

from gateway.store import convert
from gateway.store.database import Database, utc_now
from gateway.store.domain import Event
from gateway.store.events import append_events
from gateway.store.messages import load_messages
from gateway.store.models import MessageRow, PartRow


class FailoverRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def move_unsent(
        self, from_line_id: int, to_line_id: int, now: datetime | None = None
    ) -> list[Event]:
        """Move every outbound message of `from_line_id` whose parts are all still queued;
        returns one message.updated event per message moved."""
        now = now or utc_now()
        async with self._db.write() as session:
            started = exists().where(
                PartRow.message_id == MessageRow.id, PartRow.status != "queued"
            )
            ids = list(
                await session.scalars(
                    select(MessageRow.id)
                    .where(
                        MessageRow.line_id == from_line_id,
                        MessageRow.direction == "out",
                        MessageRow.status == "queued",
                        ~started,
                    )
                    .order_by(MessageRow.id)
                )
            )
            if not ids:
                return []
            await session.execute(
                update(MessageRow).where(MessageRow.id.in_(ids)).values(line_id=to_line_id)
            )
            await session.execute(
                update(PartRow).where(PartRow.message_id.in_(ids)).values(line_id=to_line_id)
            )
            moved = await load_messages(session, ids)
            return await append_events(
                session,
                [("message.updated", convert.message_data(m)) for m in moved.values()],
                now,
            )
