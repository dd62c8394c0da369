"""Waiting customers: since when each open case's customer has waited for a reply (the oldest
inbound text that no outbound message followed)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import Select, and_, exists, func, select
from sqlalchemy.orm import aliased

from gateway.store.database import Database
from gateway.store.models import CaseRow, MessageRow


def _unanswered() -> Select[int | None, datetime]:
    reply = aliased(MessageRow)
    answered = exists().where(and_(
        reply.case_id == MessageRow.case_id, reply.direction == "out",
        reply.sort_at >= MessageRow.sort_at,
    ))
    return (
        select(MessageRow.case_id, func.min(MessageRow.sort_at))
        .join(CaseRow, CaseRow.id == MessageRow.case_id)
        .where(CaseRow.status == "open", MessageRow.direction == "in", ~answered)
        .group_by(MessageRow.case_id)
    )


class WaitingRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def since(self, case_ids: Collection[int] | None = None) -> dict[int, datetime]:
        """Open cases whose customer waits for a reply -> since when; all open cases when
        `case_ids` is None."""
        query = _unanswered()
        if case_ids is not None:
            if not case_ids:
                return {}
            query = query.where(MessageRow.case_id.in_(list(case_ids)))
        async with self._db.read() as session:
            rows = await session.execute(query)
            return {int(case_id): at for case_id, at in rows if case_id is not None}
