"""The once-per-cluster work, done by the node holding the `duties` lease: the outgoing webhooks,
the marking of overdue requests, and with `sending.failover: other_line` moving the replies
waiting on the lines of a node that is gone to a line another node holds. Every node runs the
rest (routing of its own inbound, its senders, its agents' websockets)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime

import structlog

from gateway.bus import EventBus, Publisher
from gateway.config import Config
from gateway.service.webhooks import WebhookDispatcher
from gateway.service.workflow import Workflow
from gateway.store import Store, StoreError

log = structlog.get_logger("gateway.cluster.duties")


class ClusterDuties:
    def __init__(
        self, config: Config, store: Store, bus: EventBus, clock: Callable[[], datetime]
    ) -> None:
        # The node's workflow gets no webhooks of its own: they are sent from here, by one node.
        self.service_config = config.model_copy(update={"webhooks": ()})
        self._config = config
        self._store = store
        self._bus = bus
        self._clock = clock
        self._held = False
        self._dispatcher: WebhookDispatcher | None = None
        self._failover: asyncio.Task[None] | None = None
        self._publisher = Publisher(bus)

    @property
    def held(self) -> bool:
        return self._held

    def attach(self, workflow: Workflow) -> None:
        """Overdue marking in the node's workflow happens while this node holds the duties."""
        workflow.router.marks_overdue = lambda: self._held

    async def set_held(self, held: bool) -> None:
        self._held = held
        if held and self._config.webhooks and self._dispatcher is None:
            # A new dispatcher each time: where to resume is read from the database, since
            # another node may have sent meanwhile.
            self._dispatcher = WebhookDispatcher(
                store=self._store, bus=self._bus, webhooks=self._config.webhooks,
                clock=self._clock,
            )
            await self._dispatcher.start()
        elif not held and self._dispatcher is not None:
            dispatcher, self._dispatcher = self._dispatcher, None
            await dispatcher.stop()
        if held and self._config.sending.failover == "other_line" and self._failover is None:
            self._failover = asyncio.get_running_loop().create_task(
                self._failover_loop(), name="cluster-failover"
            )
        elif not held and self._failover is not None:
            task, self._failover = self._failover, None
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _failover_loop(self) -> None:
        after_s = self._config.sending.failover_after_s
        while True:
            await asyncio.sleep(after_s / 2)
            try:
                await self.fail_over_abandoned(after_s)
            except StoreError as error:
                log.warning("cluster.failover_failed", error=str(error))

    async def fail_over_abandoned(self, after_s: float) -> None:
        """Replies waiting on lines no node has held for `after_s` move to a line a live node
        holds (never a message of which a part has left: see FailoverRepository)."""
        abandoned = await self._store.leases.abandoned_lines(after_s)
        if not abandoned:
            return
        held = sorted(await self._store.leases.owners())
        if not held:
            return
        for line_id in abandoned:
            target = held[line_id % len(held)]  # spread over the lines that can take them
            events = await self._store.failover.move_unsent(line_id, target, now=self._clock())
            if events:
                log.warning("cluster.failover_moved", from_line=line_id, to_line=target,
                            messages=[e.data.get("id") for e in events])
            self._publisher.publish(events)
