"""The workflow assembled: accounts, routing and the agents' operations over one store and bus.

`start()` begins routing (bus listener first, then the startup sweep, then the router and the
ticker tasks); `stop()` ends them. The API's app runs both in its cleanup context.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime

from gateway.bus import BusEvent, EventBus, Publisher
from gateway.log import get_logger
from gateway.service.accounts import AccountService
from gateway.service.address import AddressProvider, NoAddressProvider
from gateway.service.chat import ChatService
from gateway.service.event_log import EventLog
from gateway.service.ratelimit import LoginLimits
from gateway.service.routing import Presence, Router
from gateway.service.secrets import Passwords
from gateway.service.settings import ChatSettings
from gateway.service.visibility import EventVisibility
from gateway.store.errors import StoreUnavailableError
from gateway.store.store import Store

log = get_logger(__name__)
STARTUP_SWEEP_RETRY_S = 1.0


class Workflow:
    def __init__(
        self,
        *,
        store: Store,
        bus: EventBus,
        settings: ChatSettings,
        clock: Callable[[], datetime],
        wake_outbound: Callable[[], None],
        session_ttl_s: float,
        address_provider: AddressProvider | None = None,
        passwords: Passwords | None = None,
        login_limits: LoginLimits | None = None,
    ) -> None:
        self.store = store
        self.bus = bus
        self.settings = settings
        self.clock = clock
        self.presence = Presence(clock)
        self.publisher = Publisher(bus)
        self.visibility = EventVisibility(store.cases)
        self.event_log = EventLog(store.events)
        self.router = Router(
            bus=bus, requests=store.requests, messages=store.messages, events=store.events,
            publisher=self.publisher, presence=self.presence, settings=settings, clock=clock,
        )
        self.address_provider = address_provider or NoAddressProvider()
        self.chat = ChatService(
            store=store, publisher=self.publisher, router=self.router, presence=self.presence,
            address_provider=self.address_provider, settings=settings, clock=clock,
            wake_outbound=wake_outbound,
        )
        self.accounts = AccountService(
            store.accounts, clock=clock, session_ttl_s=session_ttl_s,
            passwords=passwords, login_limits=login_limits,
        )
        self._tasks: list[asyncio.Task[None]] = []
        self._unlisten: Callable[[], None] | None = None

    def _on_bus_event(self, event: BusEvent) -> None:
        if event.type == "line.status" and isinstance(event.data.get("id"), int):
            self.chat.note_line_status(event.data["id"], dict(event.data))
        self.visibility.observe(event)

    async def start(self) -> None:
        self.router.listen()
        self._unlisten = self.bus.listen(self._on_bus_event)
        while True:
            try:
                await self.visibility.load()
                swept = await self.router.sweep()
                break
            except StoreUnavailableError as error:
                log.warning("startup sweep waits for the database", error=str(error))
                await asyncio.sleep(STARTUP_SWEEP_RETRY_S)
        if swept:
            log.info("unrouted inbound messages routed at start", count=swept)
        self._tasks = [
            asyncio.create_task(self.router.run(), name="workflow-router"),
            asyncio.create_task(self.router.run_ticker(), name="workflow-ticker"),
        ]

    async def stop(self) -> None:
        self.router.stop_listening()
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self.chat.close()
        await self.address_provider.close()
