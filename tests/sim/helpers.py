"""A minimal AT client for driving simulated modems in tests (the test side of the wire)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable

from gateway.sim.modem import SimModem
from gateway.sim.transport import open_in_memory

FINAL = re.compile(
    rb"(\r\n(OK|ERROR|COMMAND NOT SUPPORT|\+CME ERROR: [^\r]*|\+CMS ERROR: [^\r]*)\r\n|\r\n> )$"
)


class AtClient(asyncio.Protocol):
    """Collects every byte the modem sends; `command` returns one exchange's bytes."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.lost: BaseException | bool | None = False
        self._changed = asyncio.Event()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._changed.set()

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = exc if exc is not None else True
        self._changed.set()

    def write(self, data: bytes) -> None:
        assert self.transport is not None
        self.transport.write(data)

    def take(self) -> bytes:
        data = bytes(self.buffer)
        self.buffer.clear()
        return data

    async def wait_for(self, pattern: bytes | re.Pattern[bytes], timeout_s: float = 2.0) -> bytes:
        """Wait until the buffer matches; return and clear the whole buffer."""
        regex = pattern if isinstance(pattern, re.Pattern) else re.compile(re.escape(pattern))
        async with asyncio.timeout(timeout_s):
            while not regex.search(self.buffer):
                self._changed.clear()
                await self._changed.wait()
        return self.take()

    async def command(self, line: str | bytes, timeout_s: float = 2.0) -> bytes:
        """Send a command line (CR added) and return everything up to its final result code."""
        self.take()
        data = line.encode("latin-1") if isinstance(line, str) else line
        self.write(data + b"\r")
        return await self.wait_for(FINAL, timeout_s)

    async def wait_closed(self, timeout_s: float = 2.0) -> None:
        async with asyncio.timeout(timeout_s):
            while self.lost is False:
                self._changed.clear()
                await self._changed.wait()

    async def quiet(self, seconds: float = 0.05) -> bytes:
        """Whatever arrives in the next moment (for asserting that nothing does)."""
        await asyncio.sleep(seconds)
        return self.take()


async def eventually(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    """Poll a condition that no event announces (state changed by another thread or timer)."""
    async with asyncio.timeout(timeout_s):
        while not condition():  # noqa: ASYNC110 - nothing to wait on but the condition itself
            await asyncio.sleep(0.02)


async def connect(
    modem: SimModem, *, echo: bool = False, chunk_size: int | None = None
) -> AtClient:
    _, client = await open_in_memory(modem, AtClient, chunk_size=chunk_size)
    assert isinstance(client, AtClient)
    if not echo:
        await client.command("ATE0")
    return client
