"""One SMPP connection over TCP, for either side: frames in and out, each request matched to
its response by sequence number, at most `window` requests of ours outstanding.

Requests from the peer go to `handler` one at a time, in arrival order, in a task of their
own, so a handler that waits (a commit before deliver_sm_resp) never holds up the responses to
our own requests. enquire_link is answered here at once. A response nobody waits for is logged
and dropped; a frame that cannot be decoded is answered with generic_nack (or its response
with the error status) and the connection goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import structlog

from gateway.smpp import codec
from gateway.smpp.codec import Pdu, SmppDecodeError, SmppError

log = structlog.get_logger("gateway.smpp.connection")

Handler = Callable[["SmppConnection", Pdu], Awaitable[None]]
RECENT_FRAMES = 32
MAX_SEQUENCE = 0x7FFFFFFF


class SmppConnectionLostError(SmppError, ConnectionError):
    """The TCP connection closed (or was closed). `written` says whether the request had been
    handed to the socket: if so the peer may have acted on it."""

    def __init__(self, message: str, *, written: bool = False) -> None:
        super().__init__(message)
        self.written = written


class SmppResponseTimeoutError(SmppError, TimeoutError):
    """A request of ours got no response within the response timeout."""

    def __init__(self, command: str, sequence: int, timeout_s: float) -> None:
        super().__init__(f"{command} #{sequence}: no response within {timeout_s:g} s")
        self.command = command
        self.sequence = sequence


class SmppConnection:
    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        handler: Handler,
        *,
        window: int = 10,
        response_timeout_s: float = 10.0,
        name: str = "smpp",
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._handler = handler
        self._window = asyncio.Semaphore(window)
        self.response_timeout_s = response_timeout_s
        self.name = name
        self._sequence = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Pdu]] = {}
        self._requests: asyncio.Queue[Pdu | None] = asyncio.Queue()
        self._write_lock = asyncio.Lock()
        self._closed = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.recent: deque[str] = deque(maxlen=RECENT_FRAMES)  # for errors in the field
        self.mute_until = 0.0  # loop time before which the peer's requests go unanswered
        self.last_received = asyncio.get_running_loop().time()

    @classmethod
    async def open(
        cls, host: str, port: int, handler: Handler, *, ssl: Any = None, timeout_s: float = 10.0,
        **kwargs: Any,
    ) -> SmppConnection:
        async with asyncio.timeout(timeout_s):
            reader, writer = await asyncio.open_connection(host, port, ssl=ssl)
        return cls(reader, writer, handler, **kwargs)

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._read_loop(), name=f"{self.name}-read"),
            loop.create_task(self._handle_loop(), name=f"{self.name}-handle"),
        ]

    async def wait_closed(self) -> None:
        await self._closed.wait()

    def next_sequence(self) -> int:
        value = next(self._sequence)
        if value > MAX_SEQUENCE:
            self._sequence = itertools.count(2)
            value = 1
        return value

    async def request(self, command: str, params: dict[str, Any] | None = None) -> Pdu:
        """Send a request and wait for its response (generic_nack included)."""
        async with self._window:
            if self.closed:
                raise SmppConnectionLostError(f"{self.name}: connection closed")
            sequence = self.next_sequence()
            future: asyncio.Future[Pdu] = asyncio.get_running_loop().create_future()
            self._pending[sequence] = future  # registered before the write, no await between
            try:
                try:
                    await self.send(Pdu(command, sequence, params=params or {}))
                except SmppConnectionLostError as error:
                    raise SmppConnectionLostError(str(error), written=error.written) from None
                async with asyncio.timeout(self.response_timeout_s):
                    return await future
            except TimeoutError:
                raise SmppResponseTimeoutError(
                    command, sequence, self.response_timeout_s
                ) from None
            finally:
                self._pending.pop(sequence, None)
                if future.done() and not future.cancelled():
                    future.exception()  # retrieved: a loss seen by the caller another way

    async def respond(self, request: Pdu, status: int = codec.ESME_ROK,
                      params: dict[str, Any] | None = None) -> None:
        await self.send(Pdu(codec.response_name(request.command), request.sequence, status,
                            params or {}))

    async def send(self, pdu: Pdu) -> None:
        frame = codec.encode(pdu)
        async with self._write_lock:
            if self.closed:
                raise SmppConnectionLostError(f"{self.name}: connection closed", written=False)
            self.recent.append(f"> {pdu.command} #{pdu.sequence} {pdu.status:#x}")
            self._writer.write(frame)
            try:
                await self._writer.drain()
            except (ConnectionError, OSError) as error:
                self._lost(error)
                raise SmppConnectionLostError(f"{self.name}: {error}", written=True) from error

    def abort(self) -> None:
        """Drop the TCP connection now; safe from within the handler (after an unbind)."""
        self._lost(None)

    async def close(self) -> None:
        """Drop the TCP connection (no unbind: see SmppLine.stop for the polite way)."""
        self._lost(None)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        with contextlib.suppress(ConnectionError, OSError):
            await self._writer.wait_closed()

    def _lost(self, error: BaseException | None) -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        self._writer.close()
        for future in self._pending.values():
            if not future.done():
                future.set_exception(SmppConnectionLostError(
                    f"{self.name}: connection lost" + (f" ({error})" if error else ""),
                    written=True,
                ))
        self._requests.put_nowait(None)

    async def _read_frame(self) -> bytes:
        header = await self._reader.readexactly(codec.HEADER_LENGTH)
        length = codec.read_header(header)[0]
        codec.check_length(length)
        return header + await self._reader.readexactly(length - codec.HEADER_LENGTH)

    async def _read_loop(self) -> None:
        error: BaseException | None = None
        try:
            while True:
                frame = await self._read_frame()
                self.last_received = asyncio.get_running_loop().time()
                await self._dispatch(frame)
        except (asyncio.IncompleteReadError, ConnectionError, OSError) as exc:
            error = exc
        except SmppError as exc:
            log.warning("smpp.stream_broken", connection=self.name, error=str(exc),
                        recent=list(self.recent))
            error = exc
        except Exception as exc:  # a bug must cost this connection (redelivered), not the line
            log.exception("smpp.read_failed", connection=self.name, recent=list(self.recent))
            error = exc
        finally:
            self._lost(error)

    async def _dispatch(self, frame: bytes) -> None:
        try:
            pdu = codec.decode(frame)
        except SmppDecodeError as error:
            self.recent.append(f"< undecodable {error.command_id:#x} #{error.sequence}")
            log.warning("smpp.undecodable", connection=self.name, error=str(error),
                        recent=list(self.recent))
            await self._answer_undecodable(error)
            return
        self.recent.append(f"< {pdu.command} #{pdu.sequence} {pdu.status:#x}")
        if pdu.is_response:
            future = self._pending.get(pdu.sequence)
            if future is None or future.done():
                log.info("smpp.unexpected_response", connection=self.name,
                         command=pdu.command, sequence=pdu.sequence)
                return
            future.set_result(pdu)
            return
        if asyncio.get_running_loop().time() < self.mute_until:
            return  # a simulated SMSC that stopped answering
        if pdu.command == "enquire_link":
            await self.respond(pdu)
            return
        self._requests.put_nowait(pdu)

    async def _answer_undecodable(self, error: SmppDecodeError) -> None:
        name = codec.command_name(error.command_id)
        if error.command_id & codec.RESPONSE_BIT:
            future = self._pending.get(error.sequence)
            if future is not None and not future.done():
                # A response we cannot read still settles its request: as a failure.
                future.set_result(Pdu(name or "generic_nack", error.sequence, error.status
                                      or codec.ESME_RSYSERR))
            return
        if name is None or name.startswith("bind_"):
            await self.send(Pdu("generic_nack", error.sequence, error.status))
        else:
            await self.send(Pdu(codec.response_name(name), error.sequence, error.status))

    async def _handle_loop(self) -> None:
        while True:
            pdu = await self._requests.get()
            if pdu is None:
                return
            try:
                await self._handler(self, pdu)
            except SmppConnectionLostError:
                return
            except Exception:
                log.exception("smpp.handler_failed", connection=self.name, command=pdu.command)
                with contextlib.suppress(SmppError):
                    await self.respond(pdu, codec.ESME_RSYSERR)
