"""The once-per-cluster work, done by the node holding the `duties` lease: the outgoing webhooks
and the marking of overdue requests. Every node runs the rest (routing of its own inbound, its
senders, its agents' websockets)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import structlog
from aiohttp import web

from gateway.bus import EventBus
from gateway.config import Config
from gateway.service.webhooks import WebhookDispatcher
from gateway.store import Store

log = structlog.get_logger("gateway.cluster.duties")


class ClusterDuties:
    def __init__(
        self, config: Config, store: Store, bus: EventBus, clock: Callable[[], datetime]
    ) -> None:
        # The API app gets no webhooks of its own: they are sent from here, by one node.
        self.app_config = config.model_copy(update={"webhooks": ()})
        self._config = config
        self._store = store
        self._bus = bus
        self._clock = clock
        self._held = False
        self._dispatcher: WebhookDispatcher | None = None

    @property
    def held(self) -> bool:
        return self._held

    def attach(self, app: web.Application) -> None:
        """Overdue marking in the app's workflow happens while this node holds the duties."""
        from gateway.api.keys import WORKFLOW

        app[WORKFLOW].router.marks_overdue = lambda: self._held

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
