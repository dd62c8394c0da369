"""Internal notes on cases: written by agents, shown in the case's timeline, never sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from gateway.store.accounts import add_audit
from gateway.store.database import Database
from gateway.store.domain import Event
from gateway.store.errors import NotFoundError
from gateway.store.events import append_event
from gateway.store.models import CaseNoteRow, CaseRow


@dataclass(frozen=True, slots=True)
class Note:
    id: int
    case_id: int
    author_id: int | None
    text: str
    created_at: datetime


def _note(row: CaseNoteRow) -> Note:
    return Note(id=row.id, case_id=row.case_id, author_id=row.author_id, text=row.text,
                created_at=row.created_at)


class NoteRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self, case_id: int, author_id: int, text: str, now: datetime
    ) -> tuple[Note, Event]:
        """The note, its `case.note` event and an audit entry, in one transaction."""
        async with self._db.write() as session:
            case = await session.get(CaseRow, case_id)
            if case is None:
                raise NotFoundError("case", case_id)
            row = CaseNoteRow(case_id=case_id, author_id=author_id, text=text, created_at=now)
            session.add(row)
            await session.flush()
            note = _note(row)
            # agent_id is the case's: who may see case events is decided by it.
            event = await append_event(session, "case.note", {
                "case_id": case_id, "agent_id": case.agent_id, "note_id": note.id,
                "author_id": author_id, "status": case.status,
            }, now)
            add_audit(session, user_id=author_id, action="case.note", target=f"case:{case_id}",
                      details={"note_id": note.id}, now=now)
            return note, event

    async def for_case(self, case_id: int) -> list[Note]:
        """Oldest first."""
        async with self._db.read() as session:
            rows = await session.scalars(
                select(CaseNoteRow).where(CaseNoteRow.case_id == case_id).order_by(CaseNoteRow.id)
            )
            return [_note(row) for row in rows]

    async def for_cases(self, case_ids: list[int]) -> list[Note]:
        if not case_ids:
            return []
        async with self._db.read() as session:
            rows = await session.scalars(
                select(CaseNoteRow).where(CaseNoteRow.case_id.in_(case_ids))
                .order_by(CaseNoteRow.id)
            )
            return [_note(row) for row in rows]
