"""What the daemon reports about itself: the one-line summary for systemd's STATUS= and the
lines, queues and oldest waiting request that `sms-gateway status` shows."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from gateway.pipeline.lines import LineBoard, line_details
from gateway.store import Store, StoreError


class StatusReport:
    """Reads the line board and the store; `line_ids` may grow as lines are added."""

    def __init__(
        self,
        store: Store,
        board: LineBoard,
        line_ids: Mapping[str, int],
        clock: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._board = board
        self._line_ids = line_ids
        self._clock = clock

    def summary(self) -> str:
        """"2/3 lines up": how many configured lines can send now."""
        up = sum(1 for name in self._line_ids if self._board.can_send(name))
        return f"{up}/{len(self._line_ids)} lines up"

    async def summary_with_queue(self) -> str:
        """The summary and the number of queued parts (left out while the store is down)."""
        summary = self.summary()
        with contextlib.suppress(StoreError):
            queued = 0
            for line_id in self._line_ids.values():
                queued += await self._store.outbound.queue_depth(line_id)
            summary += f", {queued} queued"
        return summary

    async def lines(self) -> list[dict[str, Any]]:
        """Each line's state as the API shows it, and its queue depth."""
        rows: list[dict[str, Any]] = []
        for name, line_id in self._line_ids.items():
            state = self._board.state(name)
            rows.append({
                "name": name,
                **(line_details(state) if state is not None else {"status": "down"}),
                "queue_depth": await self._store.outbound.queue_depth(line_id),
            })
        return rows

    async def oldest_request(self) -> dict[str, Any] | None:
        """The request waiting longest for an agent, if any."""
        pending = await self._store.requests.pending(limit=1)
        if not pending:
            return None
        oldest = pending[0]
        return {
            "id": oldest.id, "phone": oldest.phone,
            "created_at": oldest.created_at.isoformat(),
            "waiting_s": round((self._clock() - oldest.created_at).total_seconds()),
        }
