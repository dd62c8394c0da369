"""The lines as supervisors see them (queue depth, last text in, live health, the node holding
each) and the gateway nodes sharing the database."""

from __future__ import annotations

from gateway.service import access
from gateway.service.access import Principal
from gateway.service.views import LineView
from gateway.store.lease import NodeInfo
from gateway.store.store import Store


class LineService:
    def __init__(self, *, store: Store) -> None:
        self._store = store
        # The latest line.status event of each line: signal, registration, last error.
        self.line_health: dict[int, dict[str, object]] = {}

    def note_line_status(self, line_id: int, details: dict[str, object]) -> None:
        self.line_health[line_id] = details

    async def load(self) -> None:
        """Each line's last known state from the event log, for the lines no event has been
        seen of since this process started: in a cluster, the other nodes' lines."""
        for line_id, event in (await self._store.events.latest_per("line.status", "id")).items():
            if isinstance(line_id, int):
                self.line_health.setdefault(line_id, dict(event.data))

    async def lines(self, principal: Principal) -> list[LineView]:
        access.require_scope(principal, "lines:read")
        depths = await self._store.line_stats.queue_depths()
        last = await self._store.line_stats.last_inbound()
        owners = await self._store.leases.owners()
        return [
            LineView(line, depths.get(line.id, 0), last.get(line.id),
                     dict(self.line_health.get(line.id, {})), owners.get(line.id))
            for line in await self._store.lines.list_all()
        ]

    async def cluster_nodes(self, principal: Principal, ttl_s: float) -> list[NodeInfo]:
        """The gateway nodes sharing the database (docs/SCALING.md)."""
        access.require_role(principal, "supervisor")
        access.require_scope(principal, "supervise")
        return await self._store.leases.nodes(ttl_s)
