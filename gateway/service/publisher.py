"""Publishing logged events, and deciding which of them each caller may see.

The workflow keeps a map of case -> assigned agent, updated from the case events it publishes
itself (every case change goes through this process), so filtering a busy event stream for an
agent costs no query.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from gateway.bus import BusEvent, EventBus
from gateway.service.access import Principal
from gateway.store.cases_repo_api import CasesRepository
from gateway.store.domain import Event

# Seen by every agent: the queue and the lines are shared.
_SHARED_PREFIXES = ("request.", "line.")


class EventPublisher:
    def __init__(self, bus: EventBus, cases: CasesRepository) -> None:
        self._bus = bus
        self._cases = cases
        self._case_agents: dict[int, int | None] = {}

    async def load(self) -> None:
        self._case_agents.update(await self._cases.open_case_agents())

    def publish(self, events: Iterable[Event]) -> None:
        for event in events:
            self.observe(event.type, event.data)
            self._bus.publish(BusEvent(event.seq, event.type, dict(event.data)))

    def observe(self, type_: str, data: dict[str, Any]) -> None:
        if type_.startswith("case.") and isinstance(data.get("case_id"), int):
            self._case_agents[data["case_id"]] = data.get("agent_id")

    def note_case(self, case_id: int, agent_id: int | None) -> None:
        self._case_agents[case_id] = agent_id

    async def case_agent(self, case_id: int) -> int | None:
        if case_id not in self._case_agents:
            self._case_agents[case_id] = await self._cases.case_agent(case_id)
        return self._case_agents[case_id]

    async def visible_to(self, principal: Principal, type_: str, data: dict[str, Any]) -> bool:
        """Supervisors see every event; an agent sees the queue, the lines, and their cases."""
        if principal.sees_all_cases or type_.startswith(_SHARED_PREFIXES):
            return True
        if type_.startswith(("case.", "agent.")):
            return principal.user_id in (
                data.get("agent_id"), data.get("previous_agent_id"), data.get("offered_to")
            )
        case_id = data.get("case_id")
        if type_.startswith("message.") and isinstance(case_id, int):
            return await self.case_agent(case_id) == principal.user_id
        return False
