"""Searching past cases by number, contact name and message text, with a snippet of the match."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import ColumnElement, func, or_, select

from gateway.store.database import Database
from gateway.store.models import CaseRow, ContactRow, MessageRow

Matched = Literal["phone", "name", "text"]
SNIPPET_CONTEXT = 40
TEXT_SCAN_LIMIT = 500


@dataclass(frozen=True, slots=True)
class CaseHit:
    case_id: int
    phone: str
    contact_name: str | None
    status: str
    agent_id: int | None
    opened_at: datetime
    closed_at: datetime | None
    wrap_up: str | None
    matched: Matched
    snippet: str


def like_pattern(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def snippet(text: str, query: str, context: int = SNIPPET_CONTEXT) -> str:
    """The text around the first match, with … where it was cut."""
    at = text.lower().find(query.lower())
    if at < 0:
        return text[: context * 2]
    start, end = max(0, at - context), min(len(text), at + len(query) + context)
    return ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")


def _mine(user_id: int | None) -> list[ColumnElement[bool]]:
    if user_id is None:
        return []
    return [or_(CaseRow.agent_id == user_id, CaseRow.closed_by == user_id)]


class SearchRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def cases(self, text: str, *, user_id: int | None, limit: int) -> list[CaseHit]:
        """Cases matching `text`, newest first; with `user_id`, only the cases that user holds
        or closed."""
        pattern = like_pattern(text)
        digits = "".join(ch for ch in text if ch.isdigit())
        found: dict[int, tuple[Matched, str]] = {}
        async with self._db.read() as session:
            by_contact = [func.lower(ContactRow.name).like(pattern, escape="\\")]
            if len(digits) >= 3:
                by_contact.append(ContactRow.number.like(like_pattern(digits), escape="\\"))
            contacts = await session.execute(
                select(CaseRow.id, ContactRow.number, ContactRow.name)
                .join(ContactRow, ContactRow.id == CaseRow.contact_id)
                .where(or_(*by_contact), *_mine(user_id))
            )
            for case_id, number, name in contacts:
                if name and text.lower() in name.lower():
                    found[case_id] = ("name", name)
                else:
                    found[case_id] = ("phone", number)
            texts = await session.execute(
                select(MessageRow.case_id, MessageRow.text)
                .join(CaseRow, CaseRow.id == MessageRow.case_id)
                .where(func.lower(MessageRow.text).like(pattern, escape="\\"), *_mine(user_id))
                .order_by(MessageRow.sort_at.desc()).limit(TEXT_SCAN_LIMIT)
            )
            for text_case_id, message_text in texts:
                if (text_case_id is not None and text_case_id not in found
                        and message_text is not None):
                    found[text_case_id] = ("text", snippet(message_text, text))
            if not found:
                return []
            cases = await session.execute(
                select(CaseRow, ContactRow.number, ContactRow.name)
                .join(ContactRow, ContactRow.id == CaseRow.contact_id)
                .where(CaseRow.id.in_(list(found)))
                .order_by(CaseRow.opened_at.desc(), CaseRow.id.desc()).limit(limit)
            )
            return [
                CaseHit(
                    case_id=row.id, phone=number, contact_name=name, status=row.status,
                    agent_id=row.agent_id, opened_at=row.opened_at, closed_at=row.closed_at,
                    wrap_up=row.wrap_up, matched=found[row.id][0], snippet=found[row.id][1],
                )
                for row, number, name in cases
            ]
