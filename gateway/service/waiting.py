"""Customers waiting for a reply: a case whose oldest unanswered text is older than
`cases.reply_overdue_s` is flagged once per waiting spell (event `case.customer_waiting`, seen by
its agent and by supervisors). Nothing is sent to the customer."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta

from gateway.bus import Publisher
from gateway.log import get_logger
from gateway.service.settings import ChatSettings
from gateway.service.visibility import EventVisibility
from gateway.store.domain import Event
from gateway.store.errors import StoreUnavailableError
from gateway.store.store import Store

log = get_logger(__name__)


class WaitingWatch:
    def __init__(
        self, *, store: Store, publisher: Publisher, visibility: EventVisibility,
        settings: ChatSettings, clock: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._publisher = publisher
        self._visibility = visibility
        self._settings = settings
        self._clock = clock
        self._flagged: dict[int, datetime] = {}  # case -> the waiting spell flagged

    def overdue(self, since: datetime | None, now: datetime) -> bool:
        return since is not None and (now - since).total_seconds() >= self._settings.reply_overdue_s

    async def check(self) -> list[Event]:
        """Flag the cases that became overdue since the last check."""
        now = self._clock()
        waiting = await self._store.waiting.since()
        for case_id in list(self._flagged):
            if self._flagged[case_id] != waiting.get(case_id):
                del self._flagged[case_id]
        events = []
        cutoff = now - timedelta(seconds=self._settings.reply_overdue_s)
        for case_id, since in sorted(waiting.items(), key=lambda item: item[1]):
            if since > cutoff or self._flagged.get(case_id) == since:
                continue
            self._flagged[case_id] = since
            events.append(await self._store.events.append("case.customer_waiting", {
                "case_id": case_id, "agent_id": await self._visibility.case_agent(case_id),
                "status": "open", "waiting_since": since.isoformat(),
                "waiting_s": (now - since).total_seconds(),
            }, now))
        self._publisher.publish(events)
        return events

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._settings.tick_interval_s)
            with contextlib.suppress(StoreUnavailableError):
                await self.check()
