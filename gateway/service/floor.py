"""The supervisors' live floor: the queue, each agent's presence, load and longest-waiting
customer, and the day's figures."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from gateway.service import access
from gateway.service.access import Principal
from gateway.service.availability import AgentAvailability, PresenceView
from gateway.service.errors import InvalidInputError
from gateway.service.presence import Presence
from gateway.service.views import AgentPresence
from gateway.store.floor import FloorFigures
from gateway.store.store import Store


@dataclass(frozen=True, slots=True)
class AgentOnFloor:
    user_id: int
    username: str
    role: str
    presence: PresenceView
    oldest_waiting_since: datetime | None  # the longest-waiting customer among their cases


@dataclass(frozen=True, slots=True)
class Floor:
    queue_count: int
    longest_wait_s: float | None
    agents: tuple[AgentOnFloor, ...]
    open_cases: int
    customers_waiting: int


def start_of_day(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


class FloorService:
    def __init__(
        self, *, store: Store, availability: AgentAvailability, presence: Presence,
        clock: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._availability = availability
        self._presence = presence
        self._clock = clock

    async def agents(self, principal: Principal) -> list[AgentPresence]:
        """Every active user (and a disabled one still holding cases): online or not, and how
        many cases each holds."""
        self._check(principal)
        counts = await self._store.cases.open_case_counts()
        return [
            AgentPresence(user.id, user.username, user.role, self._presence.is_online(user.id),
                          counts.get(user.id, 0), user.last_seen)
            for user in await self._store.accounts.list_users()
            if not user.disabled or counts.get(user.id)
        ]

    @staticmethod
    def _check(principal: Principal) -> None:
        access.require_role(principal, "supervisor")
        access.require_scope(principal, "supervise")

    async def stats(self, principal: Principal, since: datetime | None) -> FloorFigures:
        self._check(principal)
        now = self._clock()
        since = since or start_of_day(now)
        if since.tzinfo is None:
            raise InvalidInputError("since needs a time zone, e.g. 2026-01-31T00:00:00Z")
        if since > now:
            raise InvalidInputError("since is in the future")
        return await self._store.floor.figures(since)

    async def floor(self, principal: Principal) -> Floor:
        self._check(principal)
        now = self._clock()
        pending = await self._store.requests.pending()
        waits = [(now - request.created_at).total_seconds() for request in pending]
        case_agents = await self._store.cases.open_case_agents()
        waiting = await self._store.waiting.since()
        oldest: dict[int, datetime] = {}
        for case_id, since in waiting.items():
            agent = case_agents.get(case_id)
            if agent is not None and (agent not in oldest or since < oldest[agent]):
                oldest[agent] = since
        agents = tuple(
            AgentOnFloor(user.id, user.username, user.role, self._availability.view(user.id),
                         oldest.get(user.id))
            for user in await self._store.accounts.list_users() if not user.disabled
        )
        return Floor(len(pending), max(waits) if waits else None, agents, len(case_agents),
                     len(waiting))
