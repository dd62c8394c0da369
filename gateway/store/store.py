"""The Store: opens the database (migrating it to head) and holds one repository per aggregate."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import URL

from gateway.store.accounts import AccountsRepository
from gateway.store.canned import CannedReplyRepository
from gateway.store.cases import CasesRepository
from gateway.store.contact_details import ContactDetailsRepository
from gateway.store.contacts import ContactRepository
from gateway.store.database import (
    DEFAULT_REGION,
    DEFAULT_SQLITE_BUSY_TIMEOUT_MS,
    DEFAULT_SQLITE_SYNCHRONOUS,
    Database,
    StoreSettings,
    create_engine,
)
from gateway.store.events import EventRepository
from gateway.store.failover import FailoverRepository
from gateway.store.files import private_database
from gateway.store.floor import FloorRepository
from gateway.store.inbound import InboundRepository
from gateway.store.lease import LeaseRepository
from gateway.store.line_stats import LineStatsRepository
from gateway.store.lines import LineRepository
from gateway.store.login_failures import LoginFailureRepository
from gateway.store.messages import MessageRepository
from gateway.store.migrate import upgrade_engine
from gateway.store.notes import NoteRepository
from gateway.store.outbound import OutboundRepository
from gateway.store.quarantine import QuarantineRepository
from gateway.store.requests import RequestsRepository
from gateway.store.retention import RetentionRepository
from gateway.store.search import SearchRepository
from gateway.store.transfers import TransferRepository
from gateway.store.waiting import WaitingRepository
from gateway.store.webhook_deliveries import WebhookDeliveriesRepository


class Store:
    """`await Store.open(url)` ... `await store.close()`; or `async with await Store.open(url)`."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.lines = LineRepository(db)
        self.contacts = ContactRepository(db)
        self.messages = MessageRepository(db)
        self.inbound = InboundRepository(db)
        self.outbound = OutboundRepository(db)
        self.failover = FailoverRepository(db)
        self.events = EventRepository(db)
        self.line_stats = LineStatsRepository(db)
        self.cases = CasesRepository(db)
        self.requests = RequestsRepository(db)
        self.accounts = AccountsRepository(db)
        self.webhook_deliveries = WebhookDeliveriesRepository(db)
        # The agents' desk
        self.notes = NoteRepository(db)
        self.canned = CannedReplyRepository(db)
        self.contact_details = ContactDetailsRepository(db)
        self.transfers = TransferRepository(db)
        self.waiting = WaitingRepository(db)
        self.search = SearchRepository(db)
        self.retention = RetentionRepository(db)
        self.floor = FloorRepository(db)
        self.quarantine = QuarantineRepository(db)
        self.leases = LeaseRepository(db)
        self.login_failures = LoginFailureRepository(db)

    @classmethod
    async def open(
        cls,
        url: str | URL,
        *,
        default_region: str = DEFAULT_REGION,
        sqlite_busy_timeout_ms: int = DEFAULT_SQLITE_BUSY_TIMEOUT_MS,
        sqlite_synchronous: str = DEFAULT_SQLITE_SYNCHRONOUS,
        migrate: bool = True,
    ) -> Store:
        """Connect and upgrade the schema to head (unless migrate=False)."""
        settings = StoreSettings(
            default_region=default_region.upper(),
            sqlite_busy_timeout_ms=sqlite_busy_timeout_ms,
            sqlite_synchronous=sqlite_synchronous,
        )
        engine = create_engine(url, settings)
        if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
            # A fresh install: the data directory is made with the database, by whoever opens
            # it first (the daemon, `user add`, `send`); 0750 and 0600, whatever the umask.
            private_database(Path(engine.url.database))
        db = Database(engine, settings)
        try:
            if migrate:
                await upgrade_engine(engine)
        except BaseException:
            await engine.dispose()
            raise
        return cls(db)

    async def close(self) -> None:
        await self.db.dispose()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

