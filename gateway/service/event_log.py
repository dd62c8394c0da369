"""The event log as clients read it: the newest seq, and the events after one, so a console or
desktop that reconnects replays what it missed."""

from __future__ import annotations

from gateway.store.domain import Event
from gateway.store.events import EventRepository


class EventLog:
    def __init__(self, events: EventRepository) -> None:
        self._events = events

    async def last_seq(self) -> int:
        """The newest seq, 0 when the log is empty."""
        return await self._events.last_seq()

    async def first_seq(self) -> int | None:
        """The oldest seq still in the log (None when empty)."""
        return await self._events.first_seq()

    async def since(self, seq: int, limit: int) -> list[Event]:
        """Events after `seq`, oldest first, at most `limit`."""
        return await self._events.since(seq, limit)
