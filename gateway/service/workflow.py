"""The workflow assembled: accounts, routing, outgoing webhooks and the agents' operations over
one store and bus.

The daemon builds it (`Workflow.from_config`) and hands it to the HTTP app. `start()` begins
routing (bus listener first, then the startup sweep, then the router and the ticker tasks), the
outgoing webhooks and the expiry of old sessions; `stop()` ends them in the reverse order.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from datetime import datetime

from gateway.bus import BusEvent, EventBus, Publisher
from gateway.config import Config, WebhookConfig
from gateway.log import get_logger
from gateway.service.accounts import AccountService
from gateway.service.address import AddressProvider, NoAddressProvider, build_address_provider
from gateway.service.chat import ChatService
from gateway.service.event_log import EventLog
from gateway.service.ratelimit import LoginLimits
from gateway.service.routing import Presence, Router
from gateway.service.secrets import Passwords
from gateway.service.settings import ChatSettings
from gateway.service.visibility import EventVisibility
from gateway.service.webhooks import WebhookDispatcher
from gateway.store.errors import StoreUnavailableError
from gateway.store.store import Store

log = get_logger(__name__)
STARTUP_SWEEP_RETRY_S = 1.0
SESSION_EXPIRY_INTERVAL_S = 600.0


def address_provider_from_config(config: Config) -> AddressProvider:
    search = config.address_search
    return build_address_provider(
        search.provider, path=search.path, query=search.query, url_template=search.url_template,
        headers=dict(search.headers), timeout_s=search.timeout_s,
        default_region=config.default_region,
    )


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
        webhooks: Sequence[WebhookConfig] = (),
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
        self.webhooks = WebhookDispatcher(store=store, bus=bus, webhooks=webhooks, clock=clock)
        self._tasks: list[asyncio.Task[None]] = []
        self._started = False
        self._unlisten: Callable[[], None] | None = None

    @classmethod
    def from_config(
        cls,
        config: Config,
        *,
        store: Store,
        bus: EventBus,
        clock: Callable[[], datetime],
        wake_outbound: Callable[[], None],
        settings: ChatSettings | None = None,
        address_provider: AddressProvider | None = None,
        passwords: Passwords | None = None,
    ) -> Workflow:
        """The workflow as config.yaml sets it up; tests may pass their own settings, address
        provider or (cheaper) password hashing."""
        http = config.http
        return cls(
            store=store, bus=bus, settings=settings or ChatSettings.from_config(config),
            clock=clock, wake_outbound=wake_outbound, session_ttl_s=http.session_ttl_s,
            address_provider=address_provider or address_provider_from_config(config),
            passwords=passwords,
            login_limits=LoginLimits(
                free_failures_per_user_address=http.login_max_attempts,
                free_failures_per_user=http.login_max_attempts * 2,
                free_failures_per_address=http.login_max_attempts * 4,
                backoff_initial_s=http.login_backoff_initial_s,
                backoff_max_s=http.login_backoff_max_s,
                window_s=http.login_window_s,
            ),
            webhooks=config.webhooks,
        )

    def _on_bus_event(self, event: BusEvent) -> None:
        if event.type == "line.status" and isinstance(event.data.get("id"), int):
            self.chat.note_line_status(event.data["id"], dict(event.data))
        self.visibility.observe(event)

    async def start(self) -> None:
        self._started = True
        self.router.listen()
        self._unlisten = self.bus.listen(self._on_bus_event, every_node=True)
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
        await self.webhooks.start()
        self._tasks.append(
            asyncio.create_task(self._expire_sessions(), name="workflow-session-expiry")
        )

    async def _expire_sessions(self) -> None:
        while True:
            with contextlib.suppress(StoreUnavailableError):
                removed = await self.accounts.expire_sessions()
                if removed:
                    log.info("expired sessions removed", count=removed)
            await asyncio.sleep(SESSION_EXPIRY_INTERVAL_S)

    async def stop(self) -> None:
        """Idempotent: a workflow stopped (or never started) is left as it is."""
        if not self._started:
            return
        self._started = False
        await self.webhooks.stop()
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
