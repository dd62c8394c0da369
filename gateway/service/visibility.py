"""Which published events each caller may see.

A map of case -> assigned agent is kept from the case events on the bus (every case change is
published), so filtering a busy event stream for an agent costs no query.
"""

from __future__ import annotations

from typing import Any

from gateway.bus import BusEvent
from gateway.service.access import Principal
from gateway.store.cases import CasesRepository

# Seen by every agent: the queue and the lines are shared.
_SHARED_PREFIXES = ("request.", "line.")


class EventVisibility:
    def __init__(self, cases: CasesRepository) -> None:
        self._cases = cases
        self._case_agents: dict[int, int | None] = {}

    async def load(self) -> None:
        self._case_agents.update(await self._cases.open_case_agents())

    def observe(self, event: BusEvent) -> None:
        """A bus listener: notes each case's agent as case events go by."""
        data = event.data
        if event.type.startswith("case.") and isinstance(data.get("case_id"), int):
            self._case_agents[data["case_id"]] = data.get("agent_id")

    async def case_agent(self, case_id: int) -> int | None:
        if case_id not in self._case_agents:
            self._case_agents[case_id] = await self._cases.case_agent(case_id)
        return self._case_agents[case_id]

    async def visible_to(self, principal: Principal, type_: str, data: dict[str, Any]) -> bool:
        """Supervisors see every event; an agent sees the queue, the lines, and their cases."""
        if principal.sees_all_cases or type_.startswith(_SHARED_PREFIXES):
            return True
        if type_.startswith("case."):
            return data.get("agent_id") == principal.user_id or (
                data.get("previous_agent_id") == principal.user_id
            )
        case_id = data.get("case_id")
        if type_.startswith("message.") and isinstance(case_id, int):
            return await self.case_agent(case_id) == principal.user_id
        return False
