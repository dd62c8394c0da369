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
from gateway.service.availability import AgentAvailability
from gateway.service.canned import CannedReplyService
from gateway.service.chat import ChatService
from gateway.service.contacts import ContactService
from gateway.service.event_log import EventLog
from gateway.service.floor import FloorService
from gateway.service.notes import NoteService
from gateway.service.optout_confirm import OptOutConfirmation
from gateway.service.ratelimit import LoginLimits
from gateway.service.retention import Retention
from gateway.service.routing import Presence, Router
from gateway.service.search import SearchService
from gateway.service.secrets import Passwords
from gateway.service.settings import ChatSettings
from gateway.service.transcripts import TranscriptService
from gateway.service.transfers import TransferService
from gateway.service.visibility import EventVisibility
from gateway.service.waiting import WaitingWatch
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
        self.presence = Presence()
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
        self._add_desk(store, settings, clock)
        if settings.opt_out_confirmation:
            self.router.confirm_opt_out = OptOutConfirmation(
                store=store, publisher=self.publisher, settings=settings,
                text=settings.opt_out_confirmation, wake_outbound=wake_outbound,
            )
        self.accounts = AccountService(
            store.accounts, clock=clock, session_ttl_s=session_ttl_s,
            passwords=passwords, login_limits=login_limits,
        )
        self._tasks: list[asyncio.Task[None]] = []
        self._unlisten: Callable[[], None] | None = None

    def _add_desk(
        self, store: Store, settings: ChatSettings, clock: Callable[[], datetime]
    ) -> None:
        """The agents' desk: notes, canned replies, contacts, search, transcripts, presence
        and capacity, waiting customers and transfers."""
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
        self.floor = FloorService(store=store, availability=self.availability, clock=clock)
        self.retention = Retention(store=store, message_days=settings.retention_message_days,
                                   default_region=settings.default_region, clock=clock)
        self.chat.close_hooks.append(self.transfers.on_close)
        self.chat.close_hooks.append(self.availability.after_close)

    def _on_bus_event(self, event: BusEvent) -> None:
        if event.type == "line.status" and isinstance(event.data.get("id"), int):
            self.chat.note_line_status(event.data["id"], dict(event.data))
        self.visibility.observe(event)
        self.availability.observe(event.type, event.data)

    async def start(self) -> None:
        self.router.listen()
        self._unlisten = self.bus.listen(self._on_bus_event)
        while True:
            try:
                await self.visibility.load()
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
        await self.availability.stop()
        await self.chat.close()
        await self.address_provider.close()
