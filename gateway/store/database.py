"""Engine, connection settings and transactions shared by the repositories.

SQLite (aiosqlite) and PostgreSQL (asyncpg) run the same code; the URL chooses. Writes go through
`Database.write()`, which maps "cannot write now" failures to StoreUnavailableError.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from gateway.store.errors import StoreError, StoreUnavailableError

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

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A writer takes the write lock up front: a deferred transaction that reads and then
        # writes would fail at once with "database is locked" instead of waiting busy_timeout.
        if connection.get_execution_options().get("gateway_write"):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


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


class Database:
    """One engine plus the session factories and locks the repositories share."""

    def __init__(self, engine: AsyncEngine, settings: StoreSettings) -> None:
        self.engine = engine
        self.settings = settings
        self.dialect = engine.dialect.name
        self.is_sqlite = self.dialect == "sqlite"
        self._read_sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._write_sessions = async_sessionmaker(
            engine.execution_options(gateway_write=True), expire_on_commit=False
        )
        # SQLite has one writer at a time anyway; queueing here spares the pool busy-waiting.
        self._sqlite_write_lock = asyncio.Lock()
        self._line_locks: dict[int, asyncio.Lock] = {}

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
            async with self._sqlite_write_lock, self._transaction(self._write_sessions) as session:
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
        except exc.IntegrityError:
            raise
        except _UNAVAILABLE as error:
            raise unavailable(error) from error
        except exc.DBAPIError as error:
            if error.connection_invalidated or _is_transient(error):
                raise unavailable(error) from error
            raise StoreError(f"database error: {error.orig}") from error

    async def dispose(self) -> None:
        await self.engine.dispose()
