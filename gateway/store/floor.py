"""The figures of the supervisors' live floor: requests, answers, abandonment, and the times to
answer and to first reply, since a moment."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from gateway.store.database import Database
from gateway.store.models import CaseRow, MessageRow, RequestRow


@dataclass(frozen=True, slots=True)
class FloorFigures:
    since: datetime
    requests: int
    answered: int
    abandoned: int  # ended without an answer
    waiting: int  # still pending
    median_answer_s: float | None
    median_first_reply_s: float | None
    cases_opened: int
    cases_closed: int


class FloorRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def figures(self, since: datetime) -> FloorFigures:
        async with self._db.read() as session:
            rows = (await session.execute(
                select(RequestRow.status, RequestRow.created_at, RequestRow.answered_at)
                .where(RequestRow.created_at >= since)
            )).all()
            answer_times = [(answered - created).total_seconds()
                            for status, created, answered in rows
                            if status == "answered" and answered is not None]
            first_in = (
                select(MessageRow.case_id, func.min(MessageRow.sort_at).label("at"))
                .where(MessageRow.direction == "in").group_by(MessageRow.case_id).subquery()
            )
            first_out = (
                select(MessageRow.case_id, func.min(MessageRow.sort_at).label("at"))
                .where(MessageRow.direction == "out").group_by(MessageRow.case_id).subquery()
            )
            replies = (await session.execute(
                select(CaseRow.opened_at, first_in.c.at, first_out.c.at)
                .join(first_out, first_out.c.case_id == CaseRow.id)
                .outerjoin(first_in, first_in.c.case_id == CaseRow.id)
                .where(CaseRow.opened_at >= since)
            )).all()
            reply_times = [(out - min(opened, inbound or opened)).total_seconds()
                           for opened, inbound, out in replies]
            opened = await session.scalar(
                select(func.count()).select_from(CaseRow).where(CaseRow.opened_at >= since))
            closed = await session.scalar(
                select(func.count()).select_from(CaseRow).where(CaseRow.closed_at >= since))
        return FloorFigures(
            since=since, requests=len(rows),
            answered=sum(1 for status, _, _ in rows if status == "answered"),
            abandoned=sum(1 for status, _, _ in rows if status == "cancelled"),
            waiting=sum(1 for status, _, _ in rows if status == "pending"),
            median_answer_s=statistics.median(answer_times) if answer_times else None,
            median_first_reply_s=statistics.median(reply_times) if reply_times else None,
            cases_opened=int(opened or 0), cases_closed=int(closed or 0),
        )
