"""Canned replies: shared ones kept by supervisors, personal ones kept by each agent.

A canned reply only ever fills the composer; the agent reviews it and presses Send. Nothing
here reaches the outbound queue.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from gateway.service import access
from gateway.service.access import Principal
from gateway.service.errors import InvalidInputError, NotFoundError
from gateway.store import errors as store_errors
from gateway.store.canned import CannedReply
from gateway.store.store import Store

MAX_TITLE_CHARS = 200
MAX_CANNED_CHARS = 4000
MAX_SHORTCUT_CHARS = 50


def _clean(title: str, text: str, shortcut: str | None) -> tuple[str, str, str | None]:
    title = title.strip()
    if not title or len(title) > MAX_TITLE_CHARS:
        raise InvalidInputError(f"a title is 1 to {MAX_TITLE_CHARS} characters")
    if not text.strip() or len(text) > MAX_CANNED_CHARS:
        raise InvalidInputError(f"a canned reply's text is 1 to {MAX_CANNED_CHARS} characters")
    if shortcut is not None:
        shortcut = shortcut.strip().lstrip("/")
        if not shortcut:
            shortcut = None
        elif len(shortcut) > MAX_SHORTCUT_CHARS or any(ch.isspace() for ch in shortcut):
            raise InvalidInputError(
                f"a shortcut is 1 to {MAX_SHORTCUT_CHARS} characters without spaces")
    return title, text, shortcut


class CannedReplyService:
    def __init__(self, *, store: Store, clock: Callable[[], datetime]) -> None:
        self._store = store
        self._clock = clock

    async def list(self, principal: Principal) -> list[CannedReply]:
        return await self._store.canned.visible_to(principal.user_id)

    async def create(
        self, principal: Principal, title: str, text: str, *, shared: bool = False,
        shortcut: str | None = None,
    ) -> CannedReply:
        if shared:
            access.require_role(principal, "supervisor")
            access.require_scope(principal, "supervise")
        title, text, shortcut = _clean(title, text, shortcut)
        return await self._store.canned.create(
            owner_id=None if shared else principal.user_id, title=title, text=text,
            shortcut=shortcut, by=principal.user_id, now=self._clock(),
        )

    async def _editable(self, principal: Principal, reply_id: int) -> CannedReply:
        """Agents change their own; supervisors also the shared ones. Another agent's personal
        replies are not even shown to exist."""
        try:
            reply = await self._store.canned.get(reply_id)
        except store_errors.NotFoundError as error:
            raise NotFoundError(f"no canned reply {reply_id}") from error
        if reply.shared:
            access.require_role(principal, "supervisor")
            access.require_scope(principal, "supervise")
        elif reply.owner_id != principal.user_id:
            raise NotFoundError(f"no canned reply {reply_id}")
        return reply

    async def update(
        self, principal: Principal, reply_id: int, title: str, text: str,
        shortcut: str | None = None,
    ) -> CannedReply:
        await self._editable(principal, reply_id)
        title, text, shortcut = _clean(title, text, shortcut)
        return await self._store.canned.update(
            reply_id, title=title, text=text, shortcut=shortcut, by=principal.user_id,
            now=self._clock(),
        )

    async def delete(self, principal: Principal, reply_id: int) -> None:
        await self._editable(principal, reply_id)
        await self._store.canned.delete(reply_id, principal.user_id, self._clock())
