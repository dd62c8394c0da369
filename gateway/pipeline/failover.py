"""Failover (`sending.failover: other_line`): replies waiting on a line that has not been able
to send for `failover_after_s` move to a line that can, and are checked again as long as their
line stays down. With `wait` (the default) nothing moves."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime

import structlog

from gateway.bus import Publisher
from gateway.config import SendingConfig
from gateway.modem.model import LineState
from gateway.pipeline.lines import LineBoard
from gateway.pipeline.outbound import LineSender
from gateway.store import Store

log = structlog.get_logger("gateway.pipeline.failover")

Spawn = Callable[[str, Callable[[], Awaitable[None]]], object]


class Failover:
    """Listens to line states; one timer per line that cannot send."""

    def __init__(
        self,
        *,
        store: Store,
        publisher: Publisher,
        board: LineBoard,
        line_ids: Mapping[str, int],
        senders: Mapping[str, LineSender],
        sending: SendingConfig,
        spawn: Spawn,
        clock: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._publisher = publisher
        self._board = board
        self._line_ids = line_ids
        self._senders = senders
        self._sending = sending
        self._spawn = spawn
        self._clock = clock
        self._timers: dict[str, asyncio.TimerHandle] = {}

    def configure(self, sending: SendingConfig) -> None:
        """A reloaded `sending` section; switching to `wait` drops the pending checks."""
        self._sending = sending
        if sending.failover != "other_line":
            self.close()

    def on_state(self, state: LineState) -> None:
        """A line that can send needs no timer; one that cannot (and has a sender) gets one."""
        if self._sending.failover != "other_line":
            return
        timer = self._timers.get(state.name)
        if state.can_send or state.name not in self._senders:
            if timer is not None:
                timer.cancel()
                del self._timers[state.name]
        elif timer is None:
            self._arm(state.name)

    def _arm(self, name: str) -> None:
        def due() -> None:
            self._timers.pop(name, None)
            self._spawn(f"failover-{name}", lambda: self.fail_over(name))

        self._timers[name] = asyncio.get_running_loop().call_later(
            self._sending.failover_after_s, due
        )

    async def fail_over(self, name: str) -> None:
        """Move the unsent replies of line `name` if it still cannot send."""
        board = self._board
        if board.can_send(name) or name not in self._senders:
            return
        target = next((n for n in self._senders if n != name and board.can_send(n)), None)
        if target is not None:
            events = await self._store.failover.move_unsent(
                self._line_ids[name], self._line_ids[target], now=self._clock()
            )
            self._publisher.publish(events)
            if events:
                log.warning("failover.moved", from_line=name, to_line=target,
                            messages=[e.data.get("id") for e in events])
                self._senders[target].wake()
        self._arm(name)  # replies queued meanwhile move at the next check

    def close(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
