"""Suite-wide fixtures: a test must leave no asyncio task, timer, thread or open file behind."""

from __future__ import annotations

import asyncio
import gc
import inspect
import os
import threading
import time
from collections.abc import AsyncIterator, Iterator

import pytest


def _open_fds() -> dict[int, str]:
    fds: dict[int, str] = {}
    for name in os.listdir("/proc/self/fd"):
        try:
            fds[int(name)] = os.readlink(f"/proc/self/fd/{name}")
        except OSError:
            continue  # the descriptor listdir itself used
    return fds


def _is_executor_worker(thread: threading.Thread) -> bool:
    # The event loop's default executor keeps idle workers (getaddrinfo, file I/O) until the
    # loop closes, which pytest-asyncio does after this check; they hold nothing of the test.
    return thread.name.startswith("asyncio_")


@pytest.fixture(autouse=True)
def _no_leaked_threads_or_fds() -> Iterator[None]:
    threads_before = set(threading.enumerate())
    fds_before = _open_fds()
    yield
    deadline = time.monotonic() + 2.0
    collected = False
    while True:
        extra_threads = [
            t
            for t in threading.enumerate()
            if t not in threads_before and t.is_alive() and not _is_executor_worker(t)
        ]
        extra_fds = {
            fd: target
            for fd, target in _open_fds().items()
            if fd not in fds_before or fds_before[fd] != target
        }
        if not extra_threads and not extra_fds:
            return
        if not collected:
            # Only when something looks left behind: an unreachable object may still hold it.
            gc.collect()
            collected = True
            continue
        if time.monotonic() > deadline:
            break
        time.sleep(0.02)
    problems = []
    if extra_threads:
        problems.append(f"threads left running: {[t.name for t in extra_threads]}")
    if extra_fds:
        problems.append(f"file descriptors left open: {extra_fds}")
    pytest.fail("; ".join(problems))


@pytest.fixture
async def _no_leaked_tasks() -> AsyncIterator[None]:
    yield
    current = asyncio.current_task()
    await asyncio.sleep(0)
    loop = asyncio.get_running_loop()
    tasks = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
    timers = [h for h in getattr(loop, "_scheduled", []) if not h.cancelled()]
    described = f"tasks={tasks!r} timers={[repr(h) for h in timers]}"
    for task in tasks:
        task.cancel()
    for timer in timers:
        timer.cancel()
    if tasks or timers:
        pytest.fail(f"left behind: {described}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        function = getattr(item, "function", None)
        if function is not None and inspect.iscoroutinefunction(function):
            # First in the list, so it is torn down after every other fixture of the test.
            item.fixturenames.insert(0, "_no_leaked_tasks")  # type: ignore[attr-defined]


def require_tool(available: bool, reason: str) -> None:
    """Skip when a tool is missing, except under CI, where a missing tool is a failure."""
    if available:
        return
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)
