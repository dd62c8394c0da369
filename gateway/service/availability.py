"""Who may be given work now. An agent is rung, offered a request or a transfer, and may answer,
only when their console is open, their presence is `available` and they hold fewer open cases
than `routing.max_open_cases` (0: no cap). An agent at the cap still sees the queue.

Open cases per agent are kept from the case events this process publishes (every case change
goes through it), so checking costs no query. After a close an agent may be put in `wrap_up`
for `routing.wrap_up_time_s`, then back to `available`.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from gateway.bus import Publisher
from gateway.service.errors import ConflictError, InvalidInputError
from gateway.service.presence import Presence
from gateway.store.store import Store

Status = Literal["available", "away", "wrap_up"]
STATUSES: tuple[Status, ...] = ("available", "away", "wrap_up")
_STATUS_WORDS = {"available": "available", "away": "away", "wrap_up": "in wrap-up"}


@dataclass(frozen=True, slots=True)
class PresenceView:
    user_id: int
    status: Status
    since: datetime | None
    online: bool
    open_cases: int
    max_open_cases: int  # 0: no cap
    until: datetime | None  # the end of an automatic wrap-up

    @property
    def at_capacity(self) -> bool:
        return self.max_open_cases > 0 and self.open_cases >= self.max_open_cases

    @property
    def can_take(self) -> bool:
        return self.online and self.status == "available" and not self.at_capacity


class AgentAvailability:
    def __init__(
        self,
        presence: Presence,
        *,
        store: Store,
        publisher: Publisher,
        clock: Callable[[], datetime],
        max_open_cases: int = 0,
        wrap_up_time_s: float = 0.0,
    ) -> None:
        self._presence = presence
        self._store = store
        self._publisher = publisher
        self._clock = clock
        self.max_open_cases = max_open_cases
        self.wrap_up_time_s = wrap_up_time_s
        self._status: dict[int, tuple[Status, datetime | None, datetime | None]] = {}
        self._open: dict[int, int | None] = {}  # open case -> agent
        self._timers: dict[int, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[PresenceView]] = set()
        presence.eligible = self._eligible

    # -- what the workflow tells it

    def load(self, open_case_agents: dict[int, int | None]) -> None:
        self._open = dict(open_case_agents)

    def observe(self, type_: str, data: dict[str, Any]) -> None:
        case_id = data.get("case_id")
        if not type_.startswith("case.") or not isinstance(case_id, int):
            return
        if data.get("status") == "open":
            self._open[case_id] = data.get("agent_id")
        elif data.get("status") == "closed":
            self._open.pop(case_id, None)

    async def stop(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- questions

    def open_cases(self, user_id: int) -> int:
        return Counter(self._open.values())[user_id]

    def view(self, user_id: int) -> PresenceView:
        status, since, until = self._status.get(user_id, ("available", None, None))
        return PresenceView(user_id, status, since, self._presence.is_online(user_id),
                            self.open_cases(user_id), self.max_open_cases, until)

    def _eligible(self, user_id: int) -> bool:
        view = self.view(user_id)
        return view.status == "available" and not view.at_capacity

    async def offerable(self, user_id: int) -> None:
        """May `user_id` be offered a case now? ConflictError `agent_unavailable` if not."""
        view = self.view(user_id)
        if not view.online:
            raise ConflictError("that agent is not available (their console is not open)",
                                code="agent_unavailable")
        if view.status != "available":
            raise ConflictError(f"that agent is {_STATUS_WORDS[view.status]}",
                                code="agent_unavailable")
        if view.at_capacity:
            raise ConflictError("that agent is at their limit of open cases",
                                code="agent_unavailable")

    async def can_take(self, user_id: int) -> None:
        """May `user_id` answer or accept one more case? ConflictError `at_capacity` or
        `not_available`."""
        view = self.view(user_id)
        if view.at_capacity:
            raise ConflictError(
                f"you hold {view.open_cases} open cases, the limit is {view.max_open_cases};"
                " close one first", code="at_capacity")
        if view.status != "available":
            raise ConflictError(f"you are {_STATUS_WORDS[view.status]}; set yourself"
                                " available to answer", code="not_available")

    # -- changes

    async def set_status(
        self, user_id: int, status: str, *, until: datetime | None = None
    ) -> PresenceView:
        if status not in STATUSES:
            raise InvalidInputError(f"status must be one of {', '.join(STATUSES)}")
        timer = self._timers.pop(user_id, None)
        if timer is not None:
            timer.cancel()
        now = self._clock()
        self._status[user_id] = (status, now, until)
        view = self.view(user_id)
        event = await self._store.events.append("agent.presence", {
            "agent_id": user_id, "status": status, "until": until.isoformat() if until else None,
            "open_cases": view.open_cases,
        }, now)
        self._publisher.publish((event,))
        return view

    async def after_close(self, _case_id: int, user_id: int) -> None:
        """Start the automatic wrap-up time of the agent who closed a case."""
        if self.wrap_up_time_s <= 0 or self.view(user_id).status != "available":
            return
        now = self._clock()
        until = datetime.fromtimestamp(now.timestamp() + self.wrap_up_time_s, now.tzinfo)
        await self.set_status(user_id, "wrap_up", until=until)
        loop = asyncio.get_running_loop()
        self._timers[user_id] = loop.call_later(self.wrap_up_time_s, self._end_wrap_up, user_id)

    def _end_wrap_up(self, user_id: int) -> None:
        self._timers.pop(user_id, None)
        if self.view(user_id).status == "wrap_up":
            task = asyncio.ensure_future(self.set_status(user_id, "available"))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
