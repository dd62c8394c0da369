"""The asyncio side of the AT port: buffers bytes through the framer and dispatches its events.

A request registers its exchange (and tells the framer what it expects) before anything is
written, with no await in between, so no answer can arrive unclaimed. Answers that no exchange
claims are logged and dropped; URCs go to subscribers; a lost connection fails the pending
exchange at once.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Callable

import structlog

from gateway.modem.errors import ConnectionLostError
from gateway.modem.framer import Event, Final, Framer, Line, Noise, Prompt, Urc

# Raw AT traffic; off unless an administrator enables DEBUG on "gateway.at".
at_log = logging.getLogger("gateway.at")
log = structlog.get_logger("gateway.modem")

UrcCallback = Callable[[Urc], None]

DEFAULT_TRAFFIC_LINES = 64


class Exchange:
    """One command in flight: its information lines, its prompt (if any) and its final result."""

    __slots__ = ("command", "final", "lines", "prompt")

    def __init__(self, command: str, loop: asyncio.AbstractEventLoop) -> None:
        self.command = command
        self.lines: list[str] = []
        self.prompt: asyncio.Future[None] = loop.create_future()
        self.final: asyncio.Future[Final] = loop.create_future()

    def fail(self, error: BaseException) -> None:
        for future in (self.prompt, self.final):
            if not future.done():
                future.set_exception(error)
                # The waiter may already be gone (timed out); do not warn about it then.
                future.exception()


class AtProtocol(asyncio.Protocol):
    def __init__(self, *, name: str = "modem", traffic_lines: int = DEFAULT_TRAFFIC_LINES) -> None:
        self.name = name
        self.framer = Framer()
        self.transport: asyncio.Transport | None = None
        self._loop = asyncio.get_running_loop()
        self._exchange: Exchange | None = None
        self._subscribers: list[UrcCallback] = []
        self._traffic: collections.deque[str] = collections.deque(maxlen=traffic_lines)
        self.connected: asyncio.Future[None] = self._loop.create_future()
        self.closed: asyncio.Future[BaseException | None] = self._loop.create_future()
        self.last_rx = self._loop.time()
        self.dropped_lines = 0

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.last_rx = self._loop.time()
        if not self.connected.done():
            self.connected.set_result(None)

    def data_received(self, data: bytes) -> None:
        self.last_rx = self._loop.time()
        if at_log.isEnabledFor(logging.DEBUG):
            at_log.debug("%s <- %r", self.name, data)
        for event in self.framer.feed(data):
            self._dispatch(event)

    def connection_lost(self, exc: Exception | None) -> None:
        self._traffic.append(f"-- connection lost: {exc!r}")
        self.transport = None
        exchange, self._exchange = self._exchange, None
        if exchange is not None:
            exchange.fail(
                ConnectionLostError(
                    f"{self.name}: connection lost during {exchange.command!r}",
                    recent_traffic=self.recent_traffic(),
                )
            )
        if not self.closed.done():
            self.closed.set_result(exc)

    # requests

    @property
    def is_connected(self) -> bool:
        return self.transport is not None and not self.closed.done()

    def begin(
        self,
        command: str,
        *,
        prefixes: frozenset[str] | None = None,
        expect_prompt: bool = False,
    ) -> Exchange:
        """Register the exchange for `command`; call write() right after, without awaiting."""
        if not self.is_connected:
            raise ConnectionLostError(
                f"{self.name}: not connected", recent_traffic=self.recent_traffic()
            )
        exchange = Exchange(command, self._loop)
        self._exchange = exchange
        self.framer.begin(command, prefixes=prefixes, expect_prompt=expect_prompt)
        return exchange

    def abandon(self, exchange: Exchange) -> None:
        """Stop waiting for `exchange`; whatever it still receives is dropped."""
        if self._exchange is exchange:
            self._exchange = None
            self.framer.end()

    def write(self, data: bytes, *, shown: str | None = None) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            raise ConnectionLostError(
                f"{self.name}: not connected", recent_traffic=self.recent_traffic()
            )
        self._traffic.append("-> " + (shown if shown is not None else _show(data)))
        if at_log.isEnabledFor(logging.DEBUG):
            at_log.debug("%s -> %r", self.name, data)
        transport.write(data)

    def subscribe(self, callback: UrcCallback) -> Callable[[], None]:
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    def recent_traffic(self) -> tuple[str, ...]:
        return tuple(self._traffic)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    # dispatch

    def _dispatch(self, event: Event) -> None:
        exchange = self._exchange
        if isinstance(event, Noise):
            self._traffic.append(f"<- (noise) {event.data!r}")
            log.debug("line_noise_dropped", modem=self.name, data=event.data)
            return
        if isinstance(event, Urc):
            self._traffic.append(
                "<- " + event.text + (f" | {event.pdu}" if event.pdu is not None else "")
            )
            for callback in tuple(self._subscribers):
                try:
                    callback(event)
                except Exception:
                    log.exception("urc_subscriber_failed", modem=self.name, urc=event.text)
            return
        if isinstance(event, Prompt):
            self._traffic.append("<- > ")
            if exchange is not None and not exchange.prompt.done():
                exchange.prompt.set_result(None)
            else:
                self._drop("> ")
            return
        self._traffic.append("<- " + event.text)
        if exchange is None:
            self._drop(event.text)
            return
        if isinstance(event, Line):
            exchange.lines.append(event.text)
            return
        self._exchange = None
        if not exchange.final.done():
            exchange.final.set_result(event)

    def _drop(self, text: str) -> None:
        self.dropped_lines += 1
        log.debug("unsolicited_line_dropped", modem=self.name, line=text)


def _show(data: bytes) -> str:
    text = data.decode("ascii", errors="backslashreplace")
    return text.replace("\r", "").replace("\x1a", "^Z").replace("\x1b", "<ESC>")
