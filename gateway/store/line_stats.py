"""Per-line figures for the agents' line strip: outbound queue depth and the last inbound text."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from gateway.store.database import Database
from gateway.store.models import MessageRow, PartRow

QUEUED_PART_STATUSES = ("queued", "sending")


class LineStatsRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def queue_depths(self) -> dict[int, int]:
        """Outbound parts not yet handed to the network, per line."""
        async with self._db.read() as session:
            rows = await session.execute(
                select(PartRow.line_id, func.count())
                .where(PartRow.status.in_(QUEUED_PART_STATUSES))
                .group_by(PartRow.line_id)
            )
            return {int(line): int(count) for line, count in rows}

    async def last_inbound(self) -> dict[int, datetime]:
        async with self._db.read() as session:
            rows = await session.execute(
                select(MessageRow.line_id, func.max(MessageRow.received_at))
                .where(MessageRow.direction == "in")
                .group_by(MessageRow.line_id)
            )
            return {int(line): at for line, at in rows if at is not None}
