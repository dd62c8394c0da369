"""ModemDriver: one AT command in flight at a time, each with a timeout, over any asyncio transport.

The driver knows AT syntax (27.005/27.007) but no policy: the supervisor decides what to run and
when. Errors carry the command, the code and the last raw lines seen on the port.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import serial_asyncio_fast

from gateway.modem.errors import (
    CmeError,
    CmsError,
    CommandError,
    CommandTimeoutError,
    ConnectionLostError,
    SubmitConnectionLostError,
    SubmitTimeoutError,
)
from gateway.modem.framer import Final, Urc
from gateway.modem.model import STAT_ALL, StorageStatus, StoredMessage
from gateway.modem.protocol import AtProtocol, Exchange
from gateway.modem.responses import parse_cmgl, parse_cmgr, parse_cmgs, parse_cpms_status

ProtocolFactory = Callable[[], asyncio.Protocol]
# Same shape as serial_asyncio_fast.create_serial_connection with the loop and URL bound.
Opener = Callable[[ProtocolFactory], Awaitable[tuple[asyncio.BaseTransport, asyncio.Protocol]]]

ESC = b"\x1b"
CTRL_Z = b"\x1a"

DEFAULT_COMMAND_TIMEOUT_S = 5.0
DEFAULT_SEND_TIMEOUT_S = 60.0
DEFAULT_PROMPT_TIMEOUT_S = 5.0
DEFAULT_LIST_TIMEOUT_S = 30.0
DEFAULT_SETTLE_S = 0.5
DEFAULT_OPEN_TIMEOUT_S = 5.0
# +CMS ERROR 321: invalid memory index (an empty slot on most firmware)
CMS_INVALID_INDEX = 321


def serial_opener(device: str, baud: int = 115200) -> Opener:
    """An opener for a serial device path (a /dev/ttyUSBn or a simulator's pty)."""

    async def open_serial(
        factory: ProtocolFactory,
    ) -> tuple[asyncio.BaseTransport, asyncio.Protocol]:
        loop = asyncio.get_running_loop()
        # Exclusive: a second program on the same port (a probe, ModemManager) would steal
        # half of every answer.
        transport, protocol = await serial_asyncio_fast.create_serial_connection(
            loop, factory, device, baudrate=baud, exclusive=True
        )
        return transport, protocol

    return open_serial


class ModemDriver:
    def __init__(
        self,
        protocol: AtProtocol,
        *,
        command_timeout_s: float = DEFAULT_COMMAND_TIMEOUT_S,
        send_timeout_s: float = DEFAULT_SEND_TIMEOUT_S,
        prompt_timeout_s: float = DEFAULT_PROMPT_TIMEOUT_S,
        list_timeout_s: float = DEFAULT_LIST_TIMEOUT_S,
        settle_s: float = DEFAULT_SETTLE_S,
    ) -> None:
        self.protocol = protocol
        self.name = protocol.name
        self.command_timeout_s = command_timeout_s
        self.send_timeout_s = send_timeout_s
        self.prompt_timeout_s = prompt_timeout_s
        self.list_timeout_s = list_timeout_s
        self.settle_s = settle_s
        self.memory: str | None = None  # the read/delete memory (<mem1>) selected by +CPMS
        self._lock = asyncio.Lock()
        self._stale: Exchange | None = None  # timed out or abandoned; may still get its answer
        self._submit: asyncio.Task[int] | None = None

    @classmethod
    async def open(
        cls,
        opener: Opener,
        *,
        name: str = "modem",
        open_timeout_s: float = DEFAULT_OPEN_TIMEOUT_S,
        command_timeout_s: float = DEFAULT_COMMAND_TIMEOUT_S,
        send_timeout_s: float = DEFAULT_SEND_TIMEOUT_S,
        prompt_timeout_s: float = DEFAULT_PROMPT_TIMEOUT_S,
        list_timeout_s: float = DEFAULT_LIST_TIMEOUT_S,
        settle_s: float = DEFAULT_SETTLE_S,
    ) -> ModemDriver:
        """Open the port through `opener` (e.g. serial_opener(path)) and wait until connected."""
        async with asyncio.timeout(open_timeout_s):
            transport, protocol = await opener(lambda: AtProtocol(name=name))
            assert isinstance(protocol, AtProtocol)
            try:
                await protocol.connected
            except BaseException:
                transport.close()
                raise
        return cls(
            protocol,
            command_timeout_s=command_timeout_s,
            send_timeout_s=send_timeout_s,
            prompt_timeout_s=prompt_timeout_s,
            list_timeout_s=list_timeout_s,
            settle_s=settle_s,
        )

    # lifecycle

    @property
    def is_connected(self) -> bool:
        return self.protocol.is_connected

    @property
    def closed(self) -> asyncio.Future[BaseException | None]:
        """Resolves when the port is gone (unplugged or closed), with the transport's error."""
        return self.protocol.closed

    @property
    def last_rx(self) -> float:
        """Loop time of the last byte received."""
        return self.protocol.last_rx

    async def close(self, *, timeout_s: float = 5.0) -> None:
        """Let an in-flight submit finish (never cut a send in half), then close the port."""
        submit = self._submit
        if submit is not None and not submit.done():
            await asyncio.wait([submit], timeout=self.send_timeout_s)
        self.protocol.close()
        if not self.protocol.closed.done():
            await asyncio.wait([self.protocol.closed], timeout=timeout_s)

    def subscribe(self, callback: Callable[[Urc], None]) -> Callable[[], None]:
        """Call `callback` for every URC; returns the unsubscribe callable."""
        return self.protocol.subscribe(callback)

    def recent_traffic(self) -> tuple[str, ...]:
        return self.protocol.recent_traffic()

    # commands

    async def command(
        self,
        command: str,
        *,
        timeout_s: float | None = None,
        prefixes: frozenset[str] | None = None,
    ) -> tuple[str, ...]:
        """Run one command line; return its information lines or raise a ModemError."""
        async with self._lock:
            return await self._run(command, timeout_s or self.command_timeout_s, prefixes)

    async def escape(self) -> None:
        """Write a lone ESC (cancels a `> ` prompt a previous owner of the port left open)."""
        async with self._lock:
            await self._settle()
            self.protocol.write(ESC)

    async def send_pdu(self, pdu_hex: str, tpdu_length: int) -> int:
        """AT+CMGS in PDU mode; returns TP-MR.

        The lock is held from AT+CMGS=<n> through the prompt, the PDU and Ctrl-Z to +CMGS: <mr>.
        Once the PDU is written the wait is shielded: cancelling the caller does not cut the
        exchange, and the port stays locked until the modem answered or the send timed out.
        Raises CmsError (see .retryable), CommandTimeoutError when no prompt came (nothing was
        sent), or SubmitUnconfirmedError when the PDU went out without a confirmation.
        """
        command = f"AT+CMGS={tpdu_length}"
        await self._lock.acquire()
        handed_over = False
        try:
            await self._settle()
            exchange = self.protocol.begin(
                command, prefixes=frozenset({"+CMGS"}), expect_prompt=True
            )
            self.protocol.write(command.encode("ascii") + b"\r", shown=command)
            await self._await_prompt(exchange, command)
            self.protocol.write(pdu_hex.encode("ascii") + CTRL_Z, pdu=True)
            # Point of no return: the part may now be on its way to the network.
            submit = asyncio.get_running_loop().create_task(
                self._finish_submit(exchange, command), name=f"{self.name}-cmgs"
            )
            self._submit = submit
            submit.add_done_callback(self._submit_done)
            handed_over = True
        finally:
            if not handed_over:
                self._lock.release()
        return await asyncio.shield(submit)

    async def list_messages(self, stat: int = STAT_ALL) -> list[StoredMessage]:
        """AT+CMGL=<stat> in the selected memory."""
        lines = await self.command(f"AT+CMGL={stat}", timeout_s=self.list_timeout_s)
        return parse_cmgl(lines, self.memory or "")

    async def read_message(self, index: int) -> StoredMessage | None:
        """AT+CMGR=<index>; None when the slot is empty."""
        try:
            lines = await self.command(f"AT+CMGR={index}")
        except CmsError as error:
            if error.code == CMS_INVALID_INDEX:
                return None
            raise
        return parse_cmgr(lines, self.memory or "", index)

    async def delete_message(self, index: int) -> None:
        await self.command(f"AT+CMGD={index}")

    async def acknowledge(self, *, positive: bool = True) -> None:
        """AT+CNMA (or AT+CNMA=2, RP-ERROR, when `positive` is False) for a routed +CMT/+CDS."""
        await self.command("AT+CNMA" if positive else "AT+CNMA=2")

    async def select_storage(
        self, mem1: str, mem2: str | None = None, mem3: str | None = None
    ) -> tuple[StorageStatus, ...]:
        """AT+CPMS with one to three memories; `mem1` becomes the read/list/delete memory."""
        names = [m for m in (mem1, mem2, mem3) if m is not None]
        args = ",".join(f'"{m}"' for m in names)
        lines = await self.command(f"AT+CPMS={args}")
        self.memory = mem1
        return parse_cpms_status(lines, names)

    # internals

    async def _run(
        self, command: str, timeout_s: float, prefixes: frozenset[str] | None
    ) -> tuple[str, ...]:
        await self._settle()
        exchange = self.protocol.begin(command, prefixes=prefixes)
        self.protocol.write(command.encode("ascii") + b"\r", shown=command)
        try:
            async with asyncio.timeout(timeout_s):
                final = await asyncio.shield(exchange.final)
        except TimeoutError:
            self._stale = exchange
            raise CommandTimeoutError(
                command, timeout_s, tuple(exchange.lines), recent_traffic=self.recent_traffic()
            ) from None
        except asyncio.CancelledError:
            self._stale = exchange
            raise
        return self._check(exchange, final)

    async def _await_prompt(self, exchange: Exchange, command: str) -> None:
        try:
            async with asyncio.timeout(self.prompt_timeout_s):
                waiters: list[asyncio.Future[object]] = [exchange.prompt, exchange.final]  # type: ignore[list-item]  # only completion matters
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        except TimeoutError:
            self._cancel_prompt(exchange)
            raise CommandTimeoutError(
                command,
                self.prompt_timeout_s,
                tuple(exchange.lines),
                recent_traffic=self.recent_traffic(),
            ) from None
        except asyncio.CancelledError:
            self._cancel_prompt(exchange)
            raise
        if exchange.prompt.done():
            exchange.prompt.result()  # raises ConnectionLostError if the port went away
            return
        final = exchange.final.result()
        self._check(exchange, final)
        raise CommandError(command, f"{final.text} without a prompt", tuple(exchange.lines))

    def _cancel_prompt(self, exchange: Exchange) -> None:
        self._stale = exchange
        if self.protocol.is_connected:
            self.protocol.write(ESC)

    async def _finish_submit(self, exchange: Exchange, command: str) -> int:
        try:
            async with asyncio.timeout(self.send_timeout_s):
                final = await exchange.final
        except TimeoutError:
            self._stale = exchange
            raise SubmitTimeoutError(
                command,
                self.send_timeout_s,
                tuple(exchange.lines),
                recent_traffic=self.recent_traffic(),
            ) from None
        except ConnectionLostError as error:
            raise SubmitConnectionLostError(
                f"{self.name}: connection lost after the PDU of {command!r} was written",
                recent_traffic=error.recent_traffic,
            ) from error
        lines = self._check(exchange, final)
        mr = parse_cmgs(lines)
        if mr is None:
            raise CommandError(command, "no +CMGS: <mr> in the answer", lines)
        return mr

    def _submit_done(self, task: asyncio.Task[int]) -> None:
        if not task.cancelled():
            task.exception()  # retrieved here too, in case the caller was cancelled
        self._lock.release()

    async def _settle(self) -> None:
        """Give a timed-out command a moment to deliver its late answer before the next one."""
        stale = self._stale
        if stale is None:
            return
        self._stale = None
        if not stale.final.done():
            await asyncio.wait([stale.final], timeout=self.settle_s)
        with contextlib.suppress(BaseException):
            if stale.final.done() and not stale.final.cancelled():
                stale.final.exception()
        self.protocol.abandon(stale)

    def _check(self, exchange: Exchange, final: Final) -> tuple[str, ...]:
        lines = tuple(exchange.lines)
        if final.ok:
            return lines
        recent = self.recent_traffic()
        if final.kind == "cme":
            raise CmeError(final.code, exchange.command, final.text, lines, recent_traffic=recent)
        if final.kind == "cms":
            raise CmsError(final.code, exchange.command, final.text, lines, recent_traffic=recent)
        raise CommandError(exchange.command, final.text, lines, recent_traffic=recent)
