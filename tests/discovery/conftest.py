"""Fixtures for discovery: simulated modems on real ptys, bare ptys that nobody answers, and a
recorder for the watcher's callbacks."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from gateway.sim import SimRunner


class Recorder:
    """Collects ("added"|"removed"|"match"|"lost", detail) in order; tests wait on it."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []
        self._changed = asyncio.Condition()

    async def _record(self, kind: str, detail: str) -> None:
        async with self._changed:
            self.events.append((kind, detail))
            self._changed.notify_all()

    async def added(self, path: str) -> None:
        await self._record("added", path)

    async def removed(self, path: str) -> None:
        await self._record("removed", path)

    async def wait_for(self, count: int, timeout_s: float = 5.0) -> list[tuple[str, str]]:
        """Wait until at least `count` events arrived; return them all."""
        async with asyncio.timeout(timeout_s), self._changed:
            await self._changed.wait_for(lambda: len(self.events) >= count)
        return list(self.events)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def silent_tty() -> Iterator[str]:
    """A terminal with nothing behind it: a pty slave whose master nobody reads or writes."""
    master, slave = os.openpty()
    try:
        yield os.ttyname(slave)
    finally:
        os.close(master)
        os.close(slave)


@pytest.fixture
async def sim(tmp_path: Path) -> AsyncIterator[SimRunner]:
    """Three simulated modems (generic, huawei, simcom) with distinct SIMs, under tmp/sim."""
    runner = SimRunner(modems=3, profile="generic,huawei,simcom", directory=tmp_path / "sim")
    await runner.start()
    try:
        for index, modem in enumerate(runner.modems, start=1):
            modem.iccid = f"894400000000000000{index}"
            modem.imsi = f"23415000000000{index}"
        yield runner
    finally:
        await runner.stop()
