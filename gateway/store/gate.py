"""Who writes next to a SQLite store, within this process (SQLite has one writer at a time).

The pipeline's commit groups (gateway.store.worker) go before write sessions: a customer's text
waiting to be committed, or a part waiting for its `sending` before AT+CMGS, must not queue
behind a burst of routing or administration transactions. So that a session is never starved
by a long burst of groups, one that has waited `session_max_wait_s` goes next regardless.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

DEFAULT_SESSION_MAX_WAIT_S = 0.05


class WriteGate:
    def __init__(self, session_max_wait_s: float = DEFAULT_SESSION_MAX_WAIT_S) -> None:
        self._session_max_wait_s = session_max_wait_s
        self._held = False
        self._groups: collections.deque[asyncio.Future[None]] = collections.deque()
        self._sessions: collections.deque[tuple[float, asyncio.Future[None]]] = (
            collections.deque()
        )

    @asynccontextmanager
    async def group(self) -> AsyncIterator[None]:
        """Held by a commit group: ahead of sessions (but see session_max_wait_s)."""
        await self._acquire(self._groups, None)
        try:
            yield
        finally:
            self._release()

    @asynccontextmanager
    async def session(self) -> AsyncIterator[None]:
        """Held by a write session for its whole transaction."""
        await self._acquire(None, self._sessions)
        try:
            yield
        finally:
            self._release()

    async def _acquire(
        self,
        groups: collections.deque[asyncio.Future[None]] | None,
        sessions: collections.deque[tuple[float, asyncio.Future[None]]] | None,
    ) -> None:
        if not self._held and not self._groups and not self._sessions:
            self._held = True
            return
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        entry = (loop.time(), waiter)
        if groups is not None:
            groups.append(waiter)
        else:
            assert sessions is not None
            sessions.append(entry)
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self._release()  # handed over just as the waiter was cancelled: pass it on
            with contextlib.suppress(ValueError):  # _release may have dropped it already
                if groups is not None:
                    groups.remove(waiter)
                else:
                    assert sessions is not None
                    sessions.remove(entry)
            raise

    def _release(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if self._sessions and (
                not self._groups
                or loop.time() - self._sessions[0][0] >= self._session_max_wait_s
            ):
                _, waiter = self._sessions.popleft()
            elif self._groups:
                waiter = self._groups.popleft()
            else:
                self._held = False
                return
            if not waiter.done():
                waiter.set_result(None)  # still held: handed over to the waiter
                return
