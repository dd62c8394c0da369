"""Transcripts: a case's every message and note, in order, with its time, its age from the
start of the interaction, its direction, who sent or wrote it and its delivery state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from gateway.service import access
from gateway.service.access import Principal
from gateway.service.chat import ChatService
from gateway.service.views import CaseView
from gateway.store.domain import Message
from gateway.store.store import Store

EntryKind = Literal["in", "out", "note"]


@dataclass(frozen=True, slots=True)
class TranscriptEntry:
    at: datetime
    since_start_s: float
    kind: EntryKind
    who: str  # "customer", or the agent's username
    text: str
    state: str | None  # delivery state of a message, e.g. "delivered 2/2"; None for notes
    message_id: int | None
    note_id: int | None


@dataclass(frozen=True, slots=True)
class Transcript:
    case: CaseView
    started_at: datetime
    entries: tuple[TranscriptEntry, ...]
    made_at: datetime
    made_by: str


def delivery_state(message: Message) -> str:
    if message.direction == "in":
        missing = f", parts {','.join(map(str, message.missing_parts))} missing" if (
            message.missing_parts) else ""
        return f"received{missing}"
    if not message.parts:
        return message.status
    states: dict[str, int] = {}
    for part in message.parts:
        states[part.status] = states.get(part.status, 0) + 1
    total = len(message.parts)
    return ", ".join(f"{state} {count}/{total}" if total > 1 else state
                     for state, count in states.items())


def message_text(message: Message) -> str:
    if message.is_text and message.text is not None:
        return message.text
    if message.text is None and message.is_text:
        return "[text removed by the retention policy]"
    return f"[{message.placeholder_reason or 'not a text message'}]"


class TranscriptService:
    def __init__(self, *, store: Store, chat: ChatService, clock: Callable[[], datetime]) -> None:
        self._store = store
        self._chat = chat
        self._clock = clock

    async def build(self, principal: Principal, case_id: int, fmt: str) -> Transcript:
        access.require_scope(principal, "cases:read")
        view = await self._chat.get_case(principal, case_id)
        names = {user.id: user.username for user in await self._store.accounts.list_users()}
        messages = await self._store.messages.for_case(case_id)
        notes = await self._store.notes.for_case(case_id)
        starts = [view.case.opened_at, *(m.sort_at for m in messages)]
        started = min(starts)
        rows: list[TranscriptEntry] = []
        for m in messages:
            who = "customer" if m.direction == "in" else (
                names.get(m.created_by, "agent") if m.created_by is not None else "agent")
            rows.append(TranscriptEntry(
                at=m.sort_at, since_start_s=(m.sort_at - started).total_seconds(),
                kind=m.direction, who=who, text=message_text(m), state=delivery_state(m),
                message_id=m.id, note_id=None,
            ))
        for n in notes:
            rows.append(TranscriptEntry(
                at=n.created_at, since_start_s=(n.created_at - started).total_seconds(),
                kind="note", who=names.get(n.author_id, "?") if n.author_id is not None else "?",
                text=n.text, state=None, message_id=None, note_id=n.id,
            ))
        rows.sort(key=lambda e: (e.at, e.kind == "note"))
        now = self._clock()
        await self._store.accounts.audit(user_id=principal.user_id, action="case.transcript",
                                         target=f"case:{case_id}", details={"format": fmt},
                                         now=now)
        return Transcript(view, started, tuple(rows), now, principal.username)
