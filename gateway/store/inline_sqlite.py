"""The SQLite connections behind Database.write() sessions: aiosqlite's interface, run inline.

aiosqlite runs every call (cursor, execute, fetch, close) in a thread of its own, so a statement
costs three or four round trips between the event loop and that thread; a write transaction of
ten statements then holds the database (and every other writer) for many milliseconds on a busy
machine. Here the statements run on the event loop thread, where SQLite answers a small
statement in microseconds, and only the two steps that can wait go to a thread: BEGIN IMMEDIATE
(it waits up to busy_timeout when another process holds the database) and the COMMIT of a write
transaction (its fsync). SQLAlchemy's aiosqlite dialect drives these objects as it drives
aiosqlite's; they are made by `connector`, given to create_async_engine as `async_creator`.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from gateway.store.worker import JobThread

T = TypeVar("T")


class _InlineQueue:
    """What the dialect puts a job on to set the isolation level: run at once."""

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except Exception as error:
            if future is not None:
                future.set_exception(error)
        else:
            if future is not None:
                future.set_result(result)


class InlineCursor:
    def __init__(self, connection: InlineConnection) -> None:
        self._connection = connection
        self._cursor = connection._conn.cursor()

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> InlineCursor:
        if _begins_writing(sql):
            await self._connection.blocking(lambda: self._cursor.execute(sql, parameters or ()))
            self._connection.writing = True
        else:
            # Let the loop run between statements: the ORM work of a long transaction would
            # otherwise hold up every modem's input for its whole length.
            await asyncio.sleep(0)
            self._cursor.execute(sql, parameters or ())
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> InlineCursor:
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()


class InlineConnection:
    """One sqlite3 connection, used inline; `_conn`, `_tx` and `_connection` are the names the
    dialect reaches for on an aiosqlite connection."""

    def __init__(self, conn: sqlite3.Connection, jobs: JobThread) -> None:
        self._conn = conn
        self._connection: sqlite3.Connection | None = conn
        self._tx = _InlineQueue()
        self._jobs = jobs
        self.writing = False  # inside a transaction begun with BEGIN IMMEDIATE

    @property
    def sqlite3_connection(self) -> sqlite3.Connection:
        """For gateway.store.sql, which runs its prepared statements on it directly."""
        return self._conn

    async def blocking(self, job: Callable[[], T]) -> T:
        """Run `job` in the jobs' thread. A caller cancelled meanwhile still waits for the job
        to end: the rollback or close that follows a cancellation runs on this same sqlite3
        connection, and two threads in one connection at once crash the process."""
        running = asyncio.ensure_future(self._jobs.call(job))
        cancelled = False
        while not running.done():
            try:
                await asyncio.wait((running,))  # never cancels `running` itself
            except asyncio.CancelledError:
                cancelled = True
        if cancelled:
            raise asyncio.CancelledError
        return running.result()

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    @isolation_level.setter
    def isolation_level(self, value: Any) -> None:
        self._conn.isolation_level = value

    def cursor(self) -> InlineCursor:
        return InlineCursor(self)

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> InlineCursor:
        return await self.cursor().execute(sql, parameters)

    async def commit(self) -> None:
        if self.writing:
            self.writing = False
            await self.blocking(self._conn.commit)
        else:
            self._conn.commit()

    async def rollback(self) -> None:
        self.writing = False
        self._conn.rollback()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()


def connector(path: str, jobs: JobThread) -> Callable[[], Any]:
    """The `async_creator` of an engine whose connections run inline."""

    async def connect() -> InlineConnection:
        # Used from the event loop and, for BEGIN IMMEDIATE and COMMIT, from `jobs`' thread,
        # never from both at once: the session waits for those steps.
        conn = await jobs.call(lambda: sqlite3.connect(path, check_same_thread=False))
        return InlineConnection(conn, jobs)

    return connect


def _begins_writing(sql: str) -> bool:
    return sql.lstrip()[:15].upper() == "BEGIN IMMEDIATE"
