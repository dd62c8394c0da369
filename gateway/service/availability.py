"""Who may be given work now: an agent with the console open (its events websocket)."""

from __future__ import annotations

from gateway.service.errors import ConflictError
from gateway.service.routing import Presence


class AgentAvailability:
    def __init__(self, presence: Presence) -> None:
        self._presence = presence

    async def offerable(self, user_id: int) -> None:
        """May `user_id` be offered a case now? Raises ConflictError `agent_unavailable`."""
        if not self._presence.is_online(user_id):
            raise ConflictError("that agent is not available (their console is not open)",
                                code="agent_unavailable")

    async def can_take(self, user_id: int) -> None:
        """May `user_id` take one more case now (answer, accept)?"""
        return None
