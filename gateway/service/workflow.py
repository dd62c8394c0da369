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
from gateway.service.availability import AgentAvailability
from gateway.service.canned import CannedReplyService
from gateway.service.chat import ChatService
from gateway.service.contacts import ContactService
from gateway.service.event_log import EventLog
from gateway.service.floor import FloorService
from gateway.service.lines import LineService
from gateway.service.notes import NoteService
from gateway.service.optout_confirm import OptOutConfirmation
from gateway.service.presence import Presence
from gateway.service.ratelimit import LoginLimits
from gateway.service.retention import Retention
from gateway.service.routing import Router
from gateway.service.search import SearchService
from gateway.service.secrets import Passwords
from gateway.service.settings import ChatSettings
from gateway.service.transcripts import TranscriptService
from gateway.service.transfers import TransferService
from gateway.service.visibility import EventVisibility
from gateway.service.waiting import WaitingWatch
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
            store=store, publisher=self.publisher, router=self.router,
            address_provider=self.address_provider, settings=settings, clock=clock,
            wake_outbound=wake_outbound,
        )
        self.lines = LineService(store=store)
        self._add_desk(store, settings, clock)
        if settings.opt_out_confirmation:
            self.router.confirm_opt_out = OptOutConfirmation(
                store=store, publisher=self.publisher, settings=settings,
                text=settings.opt_out_confirmation, wake_outbound=wake_outbound,
            )
        self.accounts = AccountService(
            store.accounts, login_failures=store.login_failures, clock=clock,
            session_ttl_s=session_ttl_s, passwords=passwords, login_limits=login_limits,
        )
        # A logout (or lost access) is a deliberate leaving: texts ring the others at once.
        self.accounts.on_access_ended(lambda ended: self.presence.left_deliberately(ended.user_id))
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
            login_limits=LoginLimits.from_config(http),
            webhooks=config.webhooks,
        )

    def _add_desk(
        self, store: Store, settings: ChatSettings, clock: Callable[[], datetime]
    ) -> None:
        """The agents' desk: notes, canned replies, contacts, search, transcripts, presence
        and capacity, waiting customers, transfers, the live floor and retention."""
        self.notes = NoteService(store=store, chat=self.chat, publisher=self.publisher,
                                 clock=clock)
        self.canned = CannedReplyService(store=store, clock=clock)
        self.contacts = ContactService(store=store, settings=settings, clock=clock)
        self.search = SearchService(store=store)
        self.transcripts = TranscriptService(store=store, chat=self.chat, clock=clock)
        self.availability = AgentAvailability(
            self.presence, store=store, publisher=self.publisher, clock=clock,
            max_open_cases=settings.max_open_cases, wrap_up_time_s=settings.wrap_up_time_s,
        )
        self.waiting = WaitingWatch(store=store, publisher=self.publisher,
                                    visibility=self.visibility, settings=settings, clock=clock)
        self.transfers = TransferService(
            store=store, chat=self.chat, publisher=self.publisher, clock=clock,
            offerable=self.availability.offerable, can_take=self.availability.can_take,
        )
        self.floor = FloorService(store=store, availability=self.availability,
                                  presence=self.presence, clock=clock)
        self.retention = Retention(store=store, message_days=settings.retention_message_days,
                                   default_region=settings.default_region, clock=clock)
        self.chat.close_hooks.append(self.transfers.on_close)
        self.chat.close_hooks.append(self.availability.after_close)

    def _on_bus_event(self, event: BusEvent) -> None:
        if event.type == "line.status" and isinstance(event.data.get("id"), int):
            self.lines.note_line_status(event.data["id"], dict(event.data))
        self.visibility.observe(event)
        self.availability.observe(event.type, event.data)

    async def start(self) -> None:
        self._started = True
        self.router.listen()
        self._unlisten = self.bus.listen(self._on_bus_event, every_node=True)
        while True:
            try:
                await self.visibility.load()
                await self.lines.load()
                self.availability.load(await self.store.cases.open_case_agents())
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
            asyncio.create_task(self.waiting.run(), name="workflow-waiting"),
            asyncio.create_task(self.retention.run(), name="workflow-retention"),
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
        await self.availability.stop()
        await self.chat.close()
        await self.address_provider.close()
