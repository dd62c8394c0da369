"""Supervised background tasks: a task that fails is logged and restarted with backoff.

The daemon's long-running loops (senders, partial-message release, status reporting, failover
checks) run here, so one failure never silently ends a loop and every task is cancelled and
awaited at shutdown.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog

from gateway.backoff import Backoff, Retries

log = structlog.get_logger("gateway.tasks")

TASK_RESTART = Backoff(initial_s=1.0, max_s=60.0)


class TaskRunner:
    """Runs named coroutines; `restart=True` restarts one that raised (never one that
    returned), after a capped exponential backoff."""

    def __init__(self, restart_backoff: Backoff = TASK_RESTART) -> None:
        self._backoff = restart_backoff
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(
        self, name: str, body: Callable[[], Awaitable[None]], *, restart: bool = True
    ) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(
            self._supervised(name, body, restart), name=name
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _supervised(
        self, name: str, body: Callable[[], Awaitable[None]], restart: bool
    ) -> None:
        retries = Retries(self._backoff)
        while True:
            try:
                await body()
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                if not restart:
                    log.exception("task.failed", task=name)
                    return
                delay = retries.next_delay_s()
                log.exception("task.failed", task=name, restart_in_s=delay)
                await asyncio.sleep(delay)

    @property
    def running(self) -> frozenset[str]:
        """The names of the tasks not yet finished."""
        return frozenset(task.get_name() for task in self._tasks)

    async def stop(self, task: asyncio.Task[None]) -> None:
        """Cancel one task and wait until it has ended."""
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    async def close(self) -> None:
        """Cancel every task and wait until all have ended."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
