"""API fixtures: a real store (SQLite, and PostgreSQL when configured), the real bus, the app
through aiohttp_client, and helpers that feed inbound texts exactly as the pipeline does."""

from __future__ import annotations

import asyncio
import shutil
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from gateway.api.app import create_app
from gateway.api.keys import WORKFLOW
from gateway.bus import BusEvent, EventBus
from gateway.config import Config, parse_config
from gateway.service.secrets import TEST_HASHING_COST, Passwords
from gateway.service.workflow import Workflow
from gateway.store import InboundPart, InboundResult, Store, upgrade_database
from gateway.store.models import Base
from tests.api.webhook_receiver import receiver  # noqa: F401  (fixture)
from tests.store.conftest import (  # noqa: F401  (fixtures)
    PgDatabases,
    _asyncpg_dsn,
    backend,
    pg_databases,
    sqlite_template,
)

CUSTOMER = "+15551234567"
LINE_NUMBER = "+15550000001"
PASSWORD = "correct horse battery"


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Outbound:
    wakes: int = 0

    def wake(self) -> None:
        self.wakes += 1


@dataclass
class Env:
    store: Store
    bus: EventBus
    clock: FakeClock
    outbound: Outbound
    config: Config
    line_id: int
    client: TestClient[Any, Any]
    sessions: list[aiohttp.ClientSession] = field(default_factory=list)
    _scts: int = field(default=0)

    @property
    def app(self) -> web.Application:
        server = self.client.server
        assert isinstance(server, TestServer)
        return server.app

    def session(self) -> aiohttp.ClientSession:
        """A separate browser: its own cookie jar, same server."""
        session = aiohttp.ClientSession(
            base_url=self.client.make_url(""), cookie_jar=aiohttp.CookieJar(unsafe=True)
        )
        self.sessions.append(session)
        return session

    @property
    def workflow(self) -> Workflow:
        return self.app[WORKFLOW]

    async def user(self, name: str, role: str = "agent") -> int:
        user, _ = await self.workflow.accounts.add_user(name, role, PASSWORD)
        return user.id

    async def login(self, name: str, role: str = "agent") -> Agent:
        """A user of that role with its own client (own cookie jar), logged in."""
        await self.user(name, role)
        client = self.session()
        response = await client.post("/api/login", json={"username": name, "password": PASSWORD})
        assert response.status == 200, await response.text()
        body = await response.json()
        return Agent(client, body["csrf_token"], body["user"]["id"], name)

    async def store_text(
        self, text: str | None = "hello", sender: str = CUSTOMER, placeholder: str | None = None,
        sender_ton: int | None = None,
    ) -> InboundResult:
        """A customer's text committed the way the pipeline does it, not yet published."""
        self._scts += 1
        self.clock.advance(1)
        scts = self.clock()
        part = InboundPart(
            pdu=f"07911326040000F0{self._scts:08X}{abs(hash((text, sender))) % 10**12:012d}",
            sender=sender, scts=scts, encoding="gsm7" if text is not None else None, text=text,
            user_data=(text or "").encode(), placeholder_reason=placeholder,
            sender_ton=sender_ton, sender_npi=None if sender_ton is None else 1,
        )
        return await self.store.inbound.record_inbound(self.line_id, [part], now=self.clock())

    async def text_in(
        self, text: str | None = "hello", sender: str = CUSTOMER, placeholder: str | None = None,
        sender_ton: int | None = None,
    ) -> int:
        """A customer's text committed and published the way the pipeline does it; returns
        once routing has filed it."""
        result = await self.store_text(text, sender, placeholder, sender_ton)
        message_id = result.messages[0].id
        subscription = self.bus.subscribe()
        try:
            for event in result.events:
                self.bus.publish(BusEvent(event.seq, event.type, event.data))
            async with asyncio.timeout(5):
                while True:  # routing publishes an event naming the message
                    routed = await subscription.get()
                    if routed.data.get("message_id") == message_id:
                        break
        finally:
            subscription.close()
        return message_id


@dataclass
class Agent:
    client: aiohttp.ClientSession
    csrf: str
    id: int
    name: str

    async def get(self, path: str, **kwargs: Any) -> tuple[int, Any]:
        response = await self.client.get(path, **kwargs)
        return response.status, await response.json()

    async def post(self, path: str, body: Any = None, **kwargs: Any) -> tuple[int, Any]:
        headers = {"X-CSRF-Token": self.csrf, **kwargs.pop("headers", {})}
        response = await self.client.post(path, json=body or {}, headers=headers, **kwargs)
        return response.status, await response.json()


def make_config(tmp_path: Path, **overrides: Any) -> Config:
    data: dict[str, Any] = {"data_dir": str(tmp_path), "default_region": "US"}
    data.update(overrides)
    return parse_config(data, base_dir=tmp_path)


@pytest.fixture(scope="session")
def pg_api_url(pg_databases: PgDatabases | None) -> str | None:  # noqa: F811
    """A migrated PostgreSQL database of the API tests' own, so the store tests (which take
    their shared database down to no tables) never pull the schema from under them."""
    if pg_databases is None:
        return None

    async def create() -> str:
        url = await pg_databases.create()
        await upgrade_database(url)
        return url

    return asyncio.run(create())


# Emptied after each test, and every sequence restarted: the next test starts from a database
# exactly like a fresh install's (event seq 1 first), not from the previous test's numbers.
_PG_RESET = "BEGIN; {deletes}; " + """DO $$ DECLARE s record; BEGIN
  FOR s IN SELECT schemaname, sequencename FROM pg_sequences
           WHERE schemaname = current_schema() LOOP
    EXECUTE format('ALTER SEQUENCE %I.%I RESTART', s.schemaname, s.sequencename);
  END LOOP; END $$; COMMIT"""


async def _empty_pg(url: str) -> None:
    import asyncpg

    deletes = "; ".join(f'DELETE FROM "{t.name}"' for t in reversed(Base.metadata.sorted_tables))
    connection = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        await connection.execute(_PG_RESET.format(deletes=deletes))
    finally:
        await connection.close()


def _store_threads() -> set[threading.Thread]:
    # The loop's executor workers live as long as the loop; the leak check ignores them too.
    return {t for t in threading.enumerate() if not t.name.startswith("asyncio_")}


def _join_threads(threads: set[threading.Thread]) -> None:
    """The store's SQLite worker threads end just after their connections close (they need
    nothing of the loop by then); waiting for them here keeps the suite's leak check from
    having to look (a full garbage collection) after every test."""
    for thread in threads:
        thread.join(timeout=5)


@pytest.fixture
async def store(
    backend: str,  # noqa: F811
    tmp_path: Path,
    sqlite_template: Path,  # noqa: F811
    pg_api_url: str | None,
) -> AsyncIterator[Store]:
    """A store at schema head: a copy of the migrated SQLite template, or the API tests'
    PostgreSQL database (emptied after each test)."""
    if backend == "sqlite":
        shutil.copyfile(sqlite_template, tmp_path / "store.db")
        before = _store_threads()
        opened = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'store.db'}",
                                  default_region="US", migrate=False)
        try:
            yield opened
        finally:
            await opened.close()
            _join_threads(_store_threads() - before)
        return
    assert pg_api_url is not None
    opened = await Store.open(pg_api_url, default_region="US", migrate=False)
    try:
        yield opened
    finally:
        await opened.close()
        await _empty_pg(pg_api_url)


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {}


@pytest.fixture
async def env(
    store: Store,
    tmp_path: Path,
    aiohttp_client: Callable[..., Awaitable[TestClient[Any, Any]]],
    config_overrides: dict[str, Any],
) -> AsyncIterator[Env]:
    clock = FakeClock()
    bus = EventBus()
    outbound = Outbound()
    config = make_config(tmp_path, **config_overrides)
    line = await store.lines.ensure("line-1", LINE_NUMBER, now=clock())
    workflow = Workflow.from_config(
        config, store=store, bus=bus, wake_outbound=outbound.wake, clock=clock,
        passwords=Passwords(TEST_HASHING_COST),
    )
    await workflow.start()
    try:
        client = await aiohttp_client(create_app(workflow=workflow, config=config))
        environment = Env(store, bus, clock, outbound, config, line.id, client)
        try:
            yield environment
        finally:
            for session in environment.sessions:
                await session.close()
            await environment.client.close()
    finally:
        await workflow.stop()
