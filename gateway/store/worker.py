"""SQLite off the event loop, one thread hop per transaction instead of one per statement.

A `StoreThread` owns one thread and one synchronous SQLite connection. A repository operation is
a plain function of a `Connection`; the thread runs it whole, inside a transaction, and hands the
result back to the loop. Writes are grouped: operations that arrive while a commit is under way
share the next transaction (each in a savepoint of its own, so one that fails leaves the others
untouched), and every caller is answered only once that transaction has committed. So each
caller still gets its own durable commit, and concurrent lines pay for one fsync, not many.
`JobThread` is the thread underneath, also used for the steps of gateway.store.inline_sqlite
that may wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import queue
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, exc

T = TypeVar("T")
Operation = Callable[[Connection], Any]
_OPERATION_FAILURES = (exc.IntegrityError, exc.DataError, exc.ProgrammingError)


class _Stop:
    def __init__(self, done: asyncio.Future[None]) -> None:
        self.done = done


class JobThread:
    """A thread (started on first use) that runs jobs one at a time, in order; each caller
    awaits its job's result on the event loop."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._jobs: queue.SimpleQueue[tuple[Callable[[], Any], asyncio.Future[Any]] | _Stop] = (
            queue.SimpleQueue()
        )
        self._thread: threading.Thread | None = None

    async def call(self, job: Callable[[], T]) -> T:
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        if self._thread is None:
            self._thread = threading.Thread(target=self._serve, name=self.name, daemon=True)
            self._thread.start()
        self._jobs.put((job, future))
        return await future

    @property
    def started(self) -> bool:
        return self._thread is not None

    async def close(self) -> None:
        """End the thread once the jobs already given are done."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        stopped: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._jobs.put(_Stop(stopped))
        await stopped
        thread.join()  # returning from _serve; nothing left to wait for

    def _serve(self) -> None:
        while True:
            item = self._jobs.get()
            if isinstance(item, _Stop):
                item.done.get_loop().call_soon_threadsafe(_settle, item.done, True, None)
                return
            job, future = item
            try:
                result = job()
            except BaseException as error:
                future.get_loop().call_soon_threadsafe(_settle, future, False, error)
            else:
                future.get_loop().call_soon_threadsafe(_settle, future, True, result)


class StoreThread:
    """One thread with one connection of `engine`, running whole operations in transactions.

    `write=True` groups concurrent operations into one transaction; `lock` (a context manager
    factory) is held while a group runs, to keep this process's other writers out.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        name: str,
        write: bool,
        lock: Callable[[], AbstractAsyncContextManager[None]] | None = None,
    ) -> None:
        self._engine = engine
        self._name = name
        self._write = write
        self._lock = lock or _no_lock
        self._thread = JobThread(name)
        self._connection: Connection | None = None
        self._generation = 0  # bumped when the engine's connections must be dropped
        self._connected_generation = 0
        self._pending: list[tuple[Operation, asyncio.Future[Any]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._closed = False

    # loop side

    async def run(self, operation: Callable[[Connection], T]) -> T:
        """Run `operation` in a transaction of its own (reads) or of its group (writes); returns
        once that transaction committed. Raises what the operation raised, or the DBAPI error of
        the transaction (every operation of a group that failed to commit gets it)."""
        if self._closed:
            raise RuntimeError(f"{self._name} is closed")
        if not self._write:
            result: T = await self._call(lambda: self._read(operation))
            return result
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._pending.append((operation, future))
        if self._flusher is None:
            self._flusher = loop.create_task(self._flush(), name=f"{self._name}-commit")
        return await future

    def drop_connection(self) -> None:
        """Reconnect before the next operation (the engine was disposed)."""
        self._generation += 1

    async def close(self) -> None:
        """Finish what was asked, close the connection in its thread and end the thread."""
        self._closed = True
        if self._flusher is not None:
            await asyncio.gather(self._flusher, return_exceptions=True)
        if self._thread.started:
            await self._call(self._disconnect)
        await self._thread.close()

    async def _flush(self) -> None:
        """Commit pending writes group by group until none is left."""
        group: list[tuple[Operation, asyncio.Future[Any]]] = []
        try:
            while self._pending:
                async with self._lock():
                    # Whatever arrived while waiting for the lock joins this group.
                    group = [(op, f) for op, f in self._pending if not f.done()]
                    self._pending.clear()
                    if not group:
                        continue
                    outcomes = await self._call(
                        functools.partial(self._write_group, [op for op, _ in group])
                    )
                for (_, future), (ok, value) in zip(group, outcomes, strict=True):
                    _settle(future, ok, value)
                group = []
        except BaseException as error:
            # Only when the loop goes away: nobody may wait for an answer that will not come.
            for _, future in group + self._pending:
                _settle(future, False, RuntimeError(f"{self._name} stopped: {error!r}"))
            self._pending.clear()
            raise
        finally:
            self._flusher = None

    async def _call(self, job: Callable[[], T]) -> T:
        return await self._thread.call(job)

    # thread side

    def _connect(self) -> Connection:
        connection = self._connection
        if connection is not None and (
            connection.invalidated or self._connected_generation != self._generation
        ):
            self._disconnect()
            connection = None
        if connection is None:
            self._connected_generation = self._generation
            connection = self._engine.connect()
            if self._write:
                connection = connection.execution_options(gateway_write=True)
            self._connection = connection
        return connection

    def _disconnect(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()
            except exc.DBAPIError:
                connection.invalidate()

    def _read(self, operation: Callable[[Connection], T]) -> T:
        connection = self._connect()
        try:
            with connection.begin():
                return operation(connection)
        except exc.DBAPIError as error:
            if error.connection_invalidated:
                self._disconnect()
            raise

    def _write_group(self, operations: Sequence[Operation]) -> list[tuple[bool, Any]]:
        """One transaction for the whole group, with a savepoint per operation when there are
        several: an operation that raises is rolled back alone, unless the database itself
        failed (I/O, full, locked), which fails the whole group. Returns (ok, result or error)
        per operation."""
        connection = self._connect()
        if len(operations) == 1:
            try:
                with connection.begin():
                    return [(True, operations[0](connection))]
            except Exception as error:
                self._after_error(error)
                return [(False, error)]
        outcomes: list[tuple[bool, Any]] = []
        # Savepoints straight on the driver's connection: SQLAlchemy's nested transactions cost
        # more than the small operations they would wrap.
        raw = connection.connection.driver_connection
        assert raw is not None
        try:
            with connection.begin():
                for operation in operations:
                    raw.execute("SAVEPOINT operation")
                    try:
                        value = operation(connection)
                    except exc.DBAPIError as error:
                        # The operation's own data (a constraint, a value the database
                        # refuses) fails it alone; anything else is the database's failure.
                        if not isinstance(error, _OPERATION_FAILURES):
                            raise
                        raw.execute("ROLLBACK TO operation")
                        outcomes.append((False, error))
                    except Exception as error:
                        raw.execute("ROLLBACK TO operation")
                        outcomes.append((False, error))
                    else:
                        outcomes.append((True, value))
                    raw.execute("RELEASE operation")
        except Exception as error:
            self._after_error(error)
            return [(False, error) for _ in operations]
        return outcomes

    def _after_error(self, error: BaseException) -> None:
        if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
            self._disconnect()


@contextlib.asynccontextmanager
async def _no_lock() -> AsyncIterator[None]:
    yield


def _settle(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if future.done():
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)
