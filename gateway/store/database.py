"""Engine, connection settings and transactions shared by the repositories.

SQLite and PostgreSQL (asyncpg) run the same code; the URL chooses. Two ways in:
- `write()` / `read()`: an AsyncSession. On SQLite, read sessions use aiosqlite (a thread hop
  per call, but a long query never holds up the event loop) and write sessions use connections
  that run their statements inline (see gateway.store.inline_sqlite), so that a write
  transaction holds the database for as short a time as possible;
- `run_write(op)` / `run_read(op)`: `op` is a plain function of a Connection, run whole in one
  transaction. On SQLite it runs in a thread of the store (one hop per transaction, and writes
  of concurrent callers share one commit, see gateway.store.worker); on PostgreSQL it runs
  through the async engine (`run_sync`). The busy paths of the pipeline use these.
Both map "cannot write now" failures to StoreUnavailableError.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, NullPool, event, exc
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from gateway.store.errors import StoreError, StoreUnavailableError
from gateway.store.gate import WriteGate
from gateway.store.inline_sqlite import connector
from gateway.store.worker import JobThread, StoreThread

T = TypeVar("T")

DEFAULT_SQLITE_BUSY_TIMEOUT_MS = 5000
# FULL: a committed part survives power loss before the modem copy is deleted.
DEFAULT_SQLITE_SYNCHRONOUS = "FULL"
DEFAULT_REGION = "US"
# Serialises event-log appends on PostgreSQL so that seq order is commit order (see append_event).
EVENT_LOG_LOCK_KEY = 0x5E9E_10C


@dataclass(frozen=True, slots=True)
class StoreSettings:
    default_region: str = DEFAULT_REGION
    sqlite_busy_timeout_ms: int = DEFAULT_SQLITE_BUSY_TIMEOUT_MS
    sqlite_synchronous: str = DEFAULT_SQLITE_SYNCHRONOUS


def utc_now() -> datetime:
    return datetime.now(UTC)


def normalise_url(url: str | URL) -> URL:
    """Accept plain driver names too: sqlite:// becomes aiosqlite, postgresql:// asyncpg."""
    parsed = make_url(url)
    if parsed.drivername in {"sqlite", "sqlite+pysqlite"}:
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif parsed.drivername in {"postgresql", "postgres", "postgresql+psycopg2"}:
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed


def create_engine(url: str | URL, settings: StoreSettings) -> AsyncEngine:
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database in {None, "", ":memory:"}:
            raise StoreError("the SQLite store needs a file path, not an in-memory database")
        engine = create_async_engine(parsed)
        _configure_sqlite(engine, settings)
        return engine
    if parsed.get_backend_name() == "postgresql":
        return create_async_engine(parsed, pool_pre_ping=True)
    backend = parsed.get_backend_name()
    raise StoreError(f"unsupported database {backend!r}: use sqlite or postgresql")


def _configure_sqlite(engine: AsyncEngine, settings: StoreSettings) -> None:
    synchronous = settings.sqlite_synchronous.upper()
    if synchronous not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
        raise StoreError(f"invalid SQLite synchronous setting {settings.sqlite_synchronous!r}")

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's BEGIN below decide transactions, not the sqlite3 module.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(settings.sqlite_busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA synchronous = {synchronous}")
        cursor.close()

    event.listen(engine.sync_engine, "begin", _on_begin)


def _on_begin(connection: Any) -> None:
    # A writer takes the write lock up front: a deferred transaction that reads and then
    # writes would fail at once with "database is locked" instead of waiting busy_timeout.
    if connection.get_execution_options().get("gateway_write"):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        connection.exec_driver_sql("BEGIN")


def _forward_connect(source: AsyncEngine) -> Callable[[Any, Any], None]:
    def on_connect(dbapi_connection: Any, record: Any) -> None:
        source.sync_engine.pool.dispatch.connect(dbapi_connection, record)

    return on_connect


def _inline_engine(engine: AsyncEngine, jobs: JobThread) -> AsyncEngine:
    """The engine of write sessions on SQLite: same file, same connection set-up (the
    async engine's "connect" listeners), statements run inline."""
    path = engine.url.database
    assert path is not None
    inline = create_async_engine(engine.url, async_creator=connector(path, jobs))
    event.listen(inline.sync_engine, "connect", _forward_connect(engine))
    event.listen(inline.sync_engine, "begin", _on_begin)
    return inline


def _thread_engine(engine: AsyncEngine) -> Engine:
    """A synchronous engine on the same SQLite file for the store's threads. Its connections
    are set up by the async engine's "connect" listeners (so whatever is registered there
    applies to every connection of the store), and one connection per thread is kept."""
    sync = create_sync_engine(engine.url.set(drivername="sqlite+pysqlite"), poolclass=NullPool)
    event.listen(sync, "connect", _forward_connect(engine))
    event.listen(sync, "begin", _on_begin)
    return sync


_UNAVAILABLE = (exc.OperationalError, exc.InterfaceError, OSError, TimeoutError)


# PostgreSQL SQLSTATE classes that mean "not now": connection, rollback (deadlock, serialization),
# insufficient resources (disk full, out of memory), operator intervention (shutdown).
_TRANSIENT_SQLSTATE_CLASSES = frozenset({"08", "40", "53", "57"})


def _is_transient(error: exc.DBAPIError) -> bool:
    sqlstate = getattr(error.orig, "sqlstate", None)
    return isinstance(sqlstate, str) and sqlstate[:2] in _TRANSIENT_SQLSTATE_CLASSES


def unavailable(error: BaseException) -> StoreUnavailableError:
    detail = getattr(error, "orig", None) or error
    return StoreUnavailableError(f"database unavailable: {type(detail).__name__}: {detail}")


def store_error(error: Exception) -> Exception:
    """What a repository raises for `error` from the database layer: IntegrityError as is (the
    callers resolve races with it), "not now" as StoreUnavailableError, other database errors
    as StoreError, anything else (the store's own errors) unchanged."""
    if isinstance(error, exc.IntegrityError):
        return error
    if isinstance(error, (*_UNAVAILABLE, sqlite3.OperationalError)):
        # (sqlite3's own errors come from statements run on the driver directly: savepoints)
        return unavailable(error)
    if isinstance(error, sqlite3.Error):
        return StoreError(f"database error: {error}")
    if isinstance(error, exc.DBAPIError):
        if error.connection_invalidated or _is_transient(error):
            return unavailable(error)
        return StoreError(f"database error: {error.orig}")
    return error


class Database:
    """The engines, session factories, threads and write order the repositories share. On
    SQLite three engines reach one file: aiosqlite for read sessions (`engine`, the one
    listeners are registered on), inline connections for write sessions, and plain sqlite3 for
    the store's threads; the two others follow `engine`'s "connect" listeners and disposal."""

    def __init__(self, engine: AsyncEngine, settings: StoreSettings) -> None:
        self.engine = engine
        self.settings = settings
        self.dialect = engine.dialect.name
        self.is_sqlite = self.dialect == "sqlite"
        self._read_sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._blocking = JobThread("store-blocking")
        self._write_engine = _inline_engine(engine, self._blocking) if self.is_sqlite else engine
        self._write_sessions = async_sessionmaker(
            self._write_engine.execution_options(gateway_write=True), expire_on_commit=False
        )
        # SQLite has one writer at a time anyway; queueing here spares the pool busy-waiting,
        # and lets the pipeline's commits go first.
        self._gate = WriteGate()
        self._line_locks: dict[int, asyncio.Lock] = {}
        self._threads: tuple[StoreThread, StoreThread] | None = None
        self._thread_engine: Engine | None = None
        if self.is_sqlite:
            event.listen(engine.sync_engine, "engine_disposed", self._drop_thread_connections)

    def _store_threads(self) -> tuple[StoreThread, StoreThread]:
        """(writer, reader), started on first use."""
        if self._threads is None:
            self._thread_engine = _thread_engine(self.engine)
            self._threads = (
                StoreThread(self._thread_engine, name="store-writer", write=True,
                            lock=self._gate.group),
                StoreThread(self._thread_engine, name="store-reader", write=False),
            )
        return self._threads

    def _drop_thread_connections(self, _engine: Any) -> None:
        """The async engine was disposed: so are the connections of the other engines."""
        for thread in self._threads or ():
            thread.drop_connection()
        if self._write_engine is not self.engine:
            self._write_engine.sync_engine.dispose()

    async def run_write(self, operation: Callable[[Connection], T]) -> T:
        """Run `operation` in a write transaction; returns when it is committed."""
        try:
            if self.is_sqlite:
                return await self._store_threads()[0].run(operation)
            async with self.engine.execution_options(gateway_write=True).begin() as connection:
                return await connection.run_sync(operation)
        except Exception as error:
            mapped = store_error(error)
            if mapped is error:
                raise
            raise mapped from error

    async def run_read(self, operation: Callable[[Connection], T]) -> T:
        """Run `operation` in a read transaction of its own."""
        try:
            if self.is_sqlite:
                return await self._store_threads()[1].run(operation)
            async with self.engine.connect() as connection:
                return await connection.run_sync(operation)
        except Exception as error:
            mapped = store_error(error)
            if mapped is error:
                raise
            raise mapped from error

    def line_lock(self, line_id: int) -> asyncio.Lock:
        """Serialises inbound reassembly per line within this process."""
        lock = self._line_locks.get(line_id)
        if lock is None:
            lock = self._line_locks[line_id] = asyncio.Lock()
        return lock

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A write transaction, committed on normal exit."""
        if self.is_sqlite:
            async with self._gate.session(), self._transaction(self._write_sessions) as session:
                yield session
        else:
            async with self._transaction(self._write_sessions) as session:
                yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._transaction(self._read_sessions) as session:
            yield session

    @asynccontextmanager
    async def _transaction(
        self, factory: async_sessionmaker[AsyncSession]
    ) -> AsyncIterator[AsyncSession]:
        try:
            async with factory() as session, session.begin():
                yield session
        except (*_UNAVAILABLE, exc.DBAPIError, sqlite3.Error) as error:
            mapped = store_error(error)
            if mapped is error:
                raise
            raise mapped from error

    async def dispose(self) -> None:
        threads, self._threads = self._threads, None
        for thread in threads or ():
            await thread.close()
        if self._thread_engine is not None:
            self._thread_engine.dispose()
            self._thread_engine = None
        if event.contains(self.engine.sync_engine, "engine_disposed",
                          self._drop_thread_connections):
            event.remove(self.engine.sync_engine, "engine_disposed", self._drop_thread_connections)
        if self._write_engine is not self.engine:
            await self._write_engine.dispose()
        await self._blocking.close()
        await self.engine.dispose()
