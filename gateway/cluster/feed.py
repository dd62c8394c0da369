"""Every node's events on this node's bus, in seq order: the event log followed live.

A commit on any node wakes the others through NOTIFY (a trigger on the event log sends the
newest seq; see migration 0004), and each node also reads the log every `poll_interval_s`, so
a lost notification, a dropped LISTEN connection or a database failover delays events but loses
none. On PostgreSQL the log's seq order is its commit order (appends are serialised, see
gateway.store.events), so once seq N is visible every event before it is too, and reading the
log after the last seq delivered yields exactly the events not yet delivered, in order.

Subscribers (the websockets) get events only from here, in strict seq order. Events this node
committed itself are handed over by the publishers as before and, when they are next in line,
delivered without a read (their bus copy, which may carry more than the log, is preferred).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import secrets
from collections.abc import Awaitable

import asyncpg
import structlog
from sqlalchemy.engine import make_url

from gateway.backoff import Backoff, Retries
from gateway.bus import BusEvent, EventBus
from gateway.store import Store, StoreError, StoreUnavailableError

log = structlog.get_logger("gateway.cluster.feed")

CHANNEL = "gateway_events"
PROBE_CHANNEL = "gateway_probe"
READ_PAGE = 500
PROBE_TIMEOUT_S = 5.0
RECONNECT = Backoff(initial_s=0.2, max_s=10.0)


class ListenUnsupportedError(StoreError):
    """NOTIFY sent to the database never reached this node's LISTEN connection."""


PGBOUNCER_HINT = (
    "a NOTIFY sent to the database did not reach this node's LISTEN connection within"
    f" {PROBE_TIMEOUT_S:g} s. A cluster node needs a session-mode connection: if `database:` goes"
    " through pgbouncer, use pool_mode = session for it (transaction and statement pooling drop"
    " notifications), or point the node straight at PostgreSQL; see docs/SCALING.md"
)


async def _check_listen(database_url: str) -> None:
    """NOTIFY sent on one connection must reach LISTEN on another, as the feed needs; raises
    ListenUnsupportedError otherwise (a pooler in transaction mode). Plain simple-protocol
    statements only, so that the check itself works through any pooler."""
    dsn = asyncpg_dsn(database_url)
    token = secrets.token_hex(8)
    arrived: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def heard(_connection: object, _pid: int, _channel: str, payload: str) -> None:
        if payload == token and not arrived.done():
            arrived.set_result(None)

    listener = await asyncpg.connect(dsn, statement_cache_size=0)
    try:
        await listener.add_listener(PROBE_CHANNEL, heard)
        sender = await asyncpg.connect(dsn, statement_cache_size=0)
        try:
            await sender.execute(f"NOTIFY {PROBE_CHANNEL}, '{token}'")
        finally:
            await sender.close()
        async with asyncio.timeout(PROBE_TIMEOUT_S):
            await arrived
    except TimeoutError:
        raise ListenUnsupportedError(PGBOUNCER_HINT) from None
    finally:
        listener.terminate()


async def check_listen(database_url: str) -> None:
    """_check_listen, with a database that cannot be reached told as StoreUnavailableError."""
    try:
        await _check_listen(database_url)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        raise StoreUnavailableError(f"database unavailable: {error}") from error


class ClusterBus(EventBus):
    """The bus of a cluster node: listeners hear this node's events at once, as on a lone
    node; subscribers hear every node's events through the feed, in seq order."""

    def __init__(self) -> None:
        super().__init__()
        self.feed: EventFeed | None = None

    def publish(self, event: BusEvent) -> None:
        self._to_listeners(event, every_node=True)
        if self.feed is None:
            self._to_subscribers(event)
        else:
            self.feed.offer_local(event)

    def deliver(self, event: BusEvent, *, local: bool) -> None:
        """The feed's next event: to subscribers, and when it came from another node (or this
        node's copy has not been published yet) to the listeners of every node's events."""
        self._to_subscribers(event)
        if not local:
            for listener in tuple(self._node_listeners):
                listener(event)


def asyncpg_dsn(url: str) -> str:
    """The SQLAlchemy URL of the store as a plain libpq URL for asyncpg."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class EventFeed:
    def __init__(
        self, store: Store, bus: ClusterBus, database_url: str, *, poll_interval_s: float
    ) -> None:
        self._store = store
        self._bus = bus
        self._dsn = asyncpg_dsn(database_url)
        self._poll_interval_s = poll_interval_s
        self.delivered = 0
        self._target = 0
        self._local: dict[int, BusEvent] = {}
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """From the log's newest seq on; fails when LISTEN cannot work (see PGBOUNCER_HINT)."""
        self.delivered = self._target = await self._store.events.last_seq()
        self._bus.feed = self
        connection = await self._connect()
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._pump(), name="cluster-feed"),
            loop.create_task(self._listen(connection), name="cluster-listen"),
        ]

    async def stop(self) -> None:
        self._bus.feed = None
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    # -- inputs

    def offer_local(self, event: BusEvent) -> None:
        """An event this node committed (so every earlier seq is visible in the log too)."""
        if event.seq <= self.delivered:
            return  # already delivered from the log
        self._local[event.seq] = event
        self._target = max(self._target, event.seq)
        self._deliver_local_run()
        if self._target > self.delivered:
            self._wake.set()

    def _on_notify(self, _connection: object, _pid: int, _channel: str, payload: str) -> None:
        with contextlib.suppress(ValueError):
            seq = int(payload)
            if seq > self._target:
                self._target = seq
                self._wake.set()

    # -- delivery

    def _deliver_local_run(self) -> None:
        """Deliver this node's events that are next in line, without reading the log."""
        while (event := self._local.pop(self.delivered + 1, None)) is not None:
            self.delivered = event.seq
            self._bus.deliver(event, local=True)

    async def catch_up(self) -> None:
        """Read the log after the last delivered seq and deliver what it holds, in order."""
        while True:
            events = await self._store.events.since(self.delivered, READ_PAGE)
            for event in events:
                if event.seq <= self.delivered:
                    continue  # delivered meanwhile (this node's own, while the read ran)
                local = self._local.pop(event.seq, None)
                self.delivered = event.seq
                if local is not None:
                    self._bus.deliver(local, local=True)
                else:
                    self._bus.deliver(
                        BusEvent(event.seq, event.type, dict(event.data)), local=False
                    )
                self._deliver_local_run()
            for seq in [s for s in self._local if s <= self.delivered]:
                del self._local[seq]
            if len(events) < READ_PAGE:
                return

    async def _pump(self) -> None:
        failures = 0
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._poll_interval_s):
                    await self._wake.wait()
            self._wake.clear()
            try:
                await self.catch_up()
                failures = 0
            except StoreError as error:
                failures += 1
                (log.warning if failures == 1 else log.debug)(
                    "cluster.feed_waits_for_database", error=str(error)
                )

    # -- LISTEN

    async def _connect(self) -> asyncpg.Connection:
        connection: asyncpg.Connection = await asyncpg.connect(self._dsn)
        await connection.add_listener(CHANNEL, self._on_notify)
        return connection

    async def _listen(self, connection: asyncpg.Connection | None) -> None:
        """Keep a LISTEN connection; after each reconnect catch up from the log, since
        notifications sent while it was down are gone."""
        retries = Retries(RECONNECT)
        while True:
            try:
                if connection is None:
                    connection = await self._connect()
                    log.info("cluster.listen_reconnected")
                    self._wake.set()
                retries.reset()
                closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                connection.add_termination_listener(functools.partial(_set_done, closed))
                await _until_closed(connection, closed, self._poll_interval_s)
                log.warning("cluster.listen_connection_lost")
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                delay = retries.next_delay_s()
                (log.warning if retries.failures == 1 else log.debug)(
                    "cluster.listen_failed", error=str(error), retry_in_s=delay
                )
                await asyncio.sleep(delay)
            finally:
                if connection is not None:
                    connection.terminate()
                    connection = None


def _set_done(future: asyncio.Future[None], _connection: object) -> None:
    if not future.done():
        future.set_result(None)


async def _until_closed(
    connection: asyncpg.Connection, closed: Awaitable[None], interval_s: float
) -> None:
    """Return when the server ends the connection; a silent loss (a cut cable) is found by a
    query every interval."""
    while True:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(interval_s):
                await asyncio.shield(closed)
                return
        if connection.is_closed():
            return
        async with asyncio.timeout(interval_s * 5):
            await connection.execute("SELECT 1")

