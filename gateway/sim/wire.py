"""The modem's side of the wire: V.25ter result framing and the paced output queue."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from gateway.sim.atresult import CME_TEXT, CMS_TEXT, AtError, CmeError, CmsError, PlainError
from gateway.sim.faults import FaultState

_NUMERIC_RESULT = {"OK": "0", "CONNECT": "1", "RING": "2", "NO CARRIER": "3", "ERROR": "4"}


class ModemLink(Protocol):
    """Something carrying the modem's bytes to a client: a pty or an in-memory transport."""

    def modem_output(self, data: bytes) -> None: ...

    def modem_unplugged(self) -> None: ...


@dataclass(frozen=True, slots=True)
class TranscriptEntry:
    """One line of the AT transcript: `direction` "in" is what the client sent."""

    at: float  # seconds since the modem was created
    direction: Literal["in", "out"]
    text: str


def frame_info(lines: tuple[str, ...] | list[str], *, verbose: bool) -> bytes:
    """Information text: `\\r\\n` + lines joined by `\\r\\n` + `\\r\\n` (V1), or bare lines (V0)."""
    if not lines:
        return b""
    if verbose:
        text = "\r\n" + "\r\n".join(lines) + "\r\n"
    else:
        text = "".join(line + "\r\n" for line in lines)
    return text.encode("latin-1", errors="replace")


def frame_final(code: str, *, verbose: bool, quiet: bool) -> bytes:
    if quiet:
        return b""
    if verbose:
        return f"\r\n{code}\r\n".encode("latin-1")
    return f"{_NUMERIC_RESULT.get(code, code)}\r".encode("latin-1")


def error_text(error: AtError, *, cmee: int, unknown_command: str) -> str:
    """The final result code of a failed command under AT+CMEE=<cmee>."""
    if isinstance(error, PlainError):
        return unknown_command if error.unknown else "ERROR"
    if isinstance(error, CmeError):
        if cmee == 0:
            return "ERROR"
        if cmee == 2:
            return f"+CME ERROR: {CME_TEXT.get(error.code, 'unknown')}"
        return f"+CME ERROR: {error.code}"
    assert isinstance(error, CmsError)
    if cmee == 2:
        return f"+CMS ERROR: {CMS_TEXT.get(error.code, 'unknown error')}"
    return f"+CMS ERROR: {error.code}"


class Output:
    """Bytes to the links, in order, paced when a slow-response fault is active."""

    def __init__(self, faults: FaultState, connected: Callable[[], bool]) -> None:
        self.links: list[ModemLink] = []
        self._faults = faults
        self._connected = connected
        self._queue: deque[tuple[bytes, bool]] = deque()
        self._pump: asyncio.Task[None] | None = None
        self._line_free_at = 0.0

    def _open(self) -> bool:
        return self._connected() and not self._faults.hung

    def send(self, data: bytes, *, response: bool) -> None:
        faults = self._faults
        paced = (
            faults.per_byte_s > 0 or faults.baud > 0 or (response and faults.per_response_s > 0)
        )
        if not paced and not self._queue:
            self._deliver(data)
            return
        self._queue.append((data, response))
        if self._pump is None or self._pump.done():
            self._pump = asyncio.get_running_loop().create_task(self._drain())

    def _deliver(self, data: bytes) -> None:
        for link in list(self.links):
            link.modem_output(data)

    async def _drain(self) -> None:
        faults = self._faults
        while self._queue:
            data, response = self._queue.popleft()
            if response and faults.per_response_s > 0:
                await asyncio.sleep(faults.per_response_s)
            if faults.baud > 0:
                # The line is busy for 10 bit times a byte; whole frames, without drift.
                loop = asyncio.get_running_loop()
                self._line_free_at = max(loop.time(), self._line_free_at)
                self._line_free_at += len(data) * 10 / faults.baud
                await asyncio.sleep(self._line_free_at - loop.time())
                if self._open():
                    self._deliver(data)
            elif faults.per_byte_s > 0:
                for i in range(len(data)):
                    if not self._open():
                        break
                    self._deliver(data[i : i + 1])
                    await asyncio.sleep(faults.per_byte_s)
            elif self._open():
                self._deliver(data)

    def clear(self) -> None:
        self._queue.clear()

    def cancel(self) -> None:
        if self._pump is not None:
            self._pump.cancel()

    async def aclose(self) -> None:
        self.cancel()
        if self._pump is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
            self._pump = None
