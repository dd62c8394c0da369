"""The asyncio side of the AT port: buffers bytes through the framer and dispatches its events.

A request registers its exchange (and tells the framer what it expects) before anything is
written, with no await in between, so no answer can arrive unclaimed. Answers that no exchange
claims are logged and dropped; URCs go to subscribers; a lost connection fails the pending
exchange at once.

The last lines of traffic are kept for errors and logs (`recent_traffic`). A PDU encodes a
sender or recipient and a text, so the PDUs in it (+CMGL/+CMGR bodies, +CMT/+CDS, the PDU
written after the AT+CMGS prompt, line noise) are shown as `<redacted: N chars>` unless
`redact_pdus` is turned off (logging.log_message_text).
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Callable, Iterable

import structlog

from gateway.modem.errors import ConnectionLostError
from gateway.modem.framer import Event, Final, Framer, Line, Noise, Prompt, Urc

# Raw AT traffic; off unless an administrator enables DEBUG on "gateway.at".
at_log = logging.getLogger("gateway.at")
log = structlog.get_logger("gateway.modem")

UrcCallback = Callable[[Urc], None]

DEFAULT_TRAFFIC_LINES = 64
# An information line of these answers is followed by the message's PDU on a line of its own.
_PDU_HEADERS = ("+CMGL:", "+CMGR:")
Traffic = tuple[str, str | None]  # (the line, or its head when a PDU follows; the PDU)


def shown_traffic(entries: Iterable[Traffic], *, redact: bool) -> tuple[str, ...]:
    """The traffic lines as logged, PDUs replaced by their length when `redact`."""
    return tuple(
        head if pdu is None
        else head + (f"<redacted: {len(pdu)} chars>" if redact else pdu)
        for head, pdu in entries
    )


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
        self._traffic: collections.deque[Traffic] = collections.deque(maxlen=traffic_lines)
        self.redact_pdus = True
        self._pdu_follows = False
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
        self._record(f"-- connection lost: {exc!r}")
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

    def write(self, data: bytes, *, shown: str | None = None, pdu: bool = False) -> None:
        """`pdu`: `data` is a PDU (and its Ctrl-Z), redacted in the recorded traffic."""
        transport = self.transport
        if transport is None or transport.is_closing():
            raise ConnectionLostError(
                f"{self.name}: not connected", recent_traffic=self.recent_traffic()
            )
        text = shown if shown is not None else _show(data)
        if pdu:
            self._record("-> ", text)
        else:
            self._record("-> " + text)
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
        return shown_traffic(self._traffic, redact=self.redact_pdus)

    def _record(self, head: str, pdu: str | None = None) -> None:
        self._traffic.append((head, pdu))

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    # dispatch

    def _dispatch(self, event: Event) -> None:
        exchange = self._exchange
        pdu_follows, self._pdu_follows = self._pdu_follows, False
        if isinstance(event, Noise):
            # Noise may be a PDU cut by line garbage: recorded like one.
            self._record("<- (noise) ", repr(event.data))
            log.debug("line_noise_dropped", modem=self.name, data=event.data)
            return
        if isinstance(event, Urc):
            if event.pdu is not None:
                self._record(f"<- {event.text} | ", event.pdu)
            else:
                self._record("<- " + event.text)
            for callback in tuple(self._subscribers):
                try:
                    callback(event)
                except Exception:
                    log.exception("urc_subscriber_failed", modem=self.name, urc=event.text)
            return
        if isinstance(event, Prompt):
            self._record("<- > ")
            if exchange is not None and not exchange.prompt.done():
                exchange.prompt.set_result(None)
            else:
                self._drop("> ")
            return
        if pdu_follows and isinstance(event, Line):
            self._record("<- ", event.text)
        else:
            self._record("<- " + event.text)
            self._pdu_follows = isinstance(event, Line) and event.text.startswith(_PDU_HEADERS)
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
        # `pdu`: the line may be one (a late +CMGL body), redacted like message text.
        log.debug("unsolicited_line_dropped", modem=self.name, pdu=text)


def _show(data: bytes) -> str:
    text = data.decode("ascii", errors="backslashreplace")
    return text.replace("\r", "").replace("\x1a", "^Z").replace("\x1b", "<ESC>")
