"""Internal notes: agents write them on a case for colleagues and supervisors; they are never
sent to the customer (nothing here reaches the outbound queue)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from gateway.bus import Publisher
from gateway.service import access
from gateway.service.access import Principal
from gateway.service.chat import ChatService
from gateway.service.errors import InvalidInputError
from gateway.store.notes import Note
from gateway.store.store import Store

MAX_NOTE_CHARS = 4000


@dataclass(frozen=True, slots=True)
class NoteView:
    note: Note
    author: str | None  # username


class NoteService:
    def __init__(
        self,
        *,
        store: Store,
        chat: ChatService,
        publisher: Publisher,
        clock: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._chat = chat
        self._publisher = publisher
        self._clock = clock

    async def _names(self) -> dict[int, str]:
        return {user.id: user.username for user in await self._store.accounts.list_users()}

    async def add(self, principal: Principal, case_id: int, text: str) -> NoteView:
        """Anyone who may see the case may note on it, open or closed."""
        access.require_scope(principal, "cases:write")
        await self._chat.get_case(principal, case_id)
        text = text.strip()
        if not text:
            raise InvalidInputError("a note needs some text")
        if len(text) > MAX_NOTE_CHARS:
            raise InvalidInputError(f"a note is at most {MAX_NOTE_CHARS} characters")
        note, event = await self._store.notes.add(case_id, principal.user_id, text, self._clock())
        self._publisher.publish((event,))
        return NoteView(note, principal.username)

    async def list(self, principal: Principal, case_id: int) -> list[NoteView]:
        await self._chat.get_case(principal, case_id)
        names = await self._names()
        return [
            NoteView(note, names.get(note.author_id) if note.author_id is not None else None)
            for note in await self._store.notes.for_case(case_id)
        ]
