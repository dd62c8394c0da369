"""How a client reaches a simulated modem: a real pseudo-terminal, or an in-memory transport.

The pty is what production code opens (pyserial, like /dev/ttyUSB2) through a stable symlink;
the in-memory transport mirrors serial_asyncio_fast.create_serial_connection for fast tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import tty
from collections.abc import Callable
from pathlib import Path

from gateway.sim.modem import SimModem

MAX_PENDING_OUTPUT = 64 * 1024  # what a pty keeps for a client that is not reading
EIO_RETRY_S = 0.1


class PtyPort:
    """A modem's serial port: a pty whose slave is reachable at `path` (a symlink).

    The port keeps its own descriptor of the slave open, so a client closing and reopening the
    device does not hang the master up. Unplug removes the symlink and closes the pty; replug
    makes a new pty (maybe with another /dev/pts number) behind the same path.
    """

    def __init__(self, modem: SimModem, path: Path) -> None:
        self.modem = modem
        self.path = path
        self.slave_name: str | None = None
        self._master: int | None = None
        self._slave: int | None = None
        self._pending = bytearray()
        self._writer_added = False
        self._retry: asyncio.TimerHandle | None = None
        self._closed = False
        modem.plug_listeners.append(self._replugged)

    def open(self) -> None:
        loop = asyncio.get_running_loop()
        master, slave = os.openpty()
        tty.setraw(slave)
        os.set_blocking(master, False)
        self._master, self._slave = master, slave
        self.slave_name = os.ttyname(slave)
        loop.add_reader(master, self._readable)
        tmp = self.path.with_name(self.path.name + ".new")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        tmp.symlink_to(self.slave_name)
        os.replace(tmp, self.path)
        self.modem.device = str(self.path)
        self.modem.add_link(self)

    def _readable(self) -> None:
        if self._master is None:
            return
        try:
            data = os.read(self._master, 4096)
        except BlockingIOError:
            return
        except OSError as exc:
            if exc.errno != errno.EIO:
                raise
            # No slave descriptor open anywhere: wait for a client instead of spinning.
            self._pause_reading()
            return
        if data:
            self.modem.feed(data)

    def _pause_reading(self) -> None:
        if self._master is None:
            return
        loop = asyncio.get_running_loop()
        loop.remove_reader(self._master)
        self._retry = loop.call_later(EIO_RETRY_S, self._resume_reading)

    def _resume_reading(self) -> None:
        self._retry = None
        if self._master is not None:
            asyncio.get_running_loop().add_reader(self._master, self._readable)

    def modem_output(self, data: bytes) -> None:
        if self._master is None:
            return
        if not self._pending:
            try:
                written = os.write(self._master, data)
            except BlockingIOError:
                written = 0
            except OSError:
                return
            data = data[written:]
            if not data:
                return
        self._pending += data
        if len(self._pending) > MAX_PENDING_OUTPUT:
            del self._pending[: len(self._pending) - MAX_PENDING_OUTPUT]
        if not self._writer_added:
            asyncio.get_running_loop().add_writer(self._master, self._writable)
            self._writer_added = True

    def _writable(self) -> None:
        if self._master is None:
            return
        try:
            written = os.write(self._master, self._pending)
        except BlockingIOError:
            return
        except OSError:
            written = len(self._pending)
        del self._pending[:written]
        if not self._pending:
            asyncio.get_running_loop().remove_writer(self._master)
            self._writer_added = False

    def modem_unplugged(self) -> None:
        self._teardown()

    def _replugged(self) -> None:
        if not self._closed and self._master is None:
            self.open()

    def _teardown(self) -> None:
        loop = asyncio.get_running_loop()
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None
        if self._master is not None:
            loop.remove_reader(self._master)
            if self._writer_added:
                loop.remove_writer(self._master)
                self._writer_added = False
            os.close(self._master)
            self._master = None
        if self._slave is not None:
            os.close(self._slave)
            self._slave = None
        self._pending.clear()
        self.modem.remove_link(self)
        if self.modem.device == str(self.path):
            self.modem.device = None
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(ValueError):
            self.modem.plug_listeners.remove(self._replugged)
        self._teardown()


async def open_pty(modem: SimModem, directory: Path | str, name: str | None = None) -> PtyPort:
    """A pty for `modem`, reachable at DIRECTORY/NAME (default: the modem's name)."""
    port = PtyPort(modem, Path(directory) / (name or modem.name))
    port.open()
    return port


class InMemoryTransport(asyncio.Transport):
    """Bytes between a protocol and a modem through the event loop, like a serial transport."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        modem: SimModem,
        protocol: asyncio.Protocol,
        chunk_size: int | None,
    ) -> None:
        super().__init__({"serial": None, "modem": modem.name})
        self._loop = loop
        self._modem = modem
        self._protocol = protocol
        self._chunk = chunk_size
        self._closing = False
        self._paused = False
        self._held = bytearray()

    def _chunks(self, data: bytes) -> list[bytes]:
        if not self._chunk:
            return [data]
        return [data[i : i + self._chunk] for i in range(0, len(data), self._chunk)]

    # client -> modem
    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._closing:
            return
        for chunk in self._chunks(bytes(data)):
            self._loop.call_soon(self._to_modem, chunk)

    def _to_modem(self, data: bytes) -> None:
        if not self._closing:
            self._modem.feed(data)

    # modem -> client
    def modem_output(self, data: bytes) -> None:
        for chunk in self._chunks(data):
            self._loop.call_soon(self._to_protocol, chunk)

    def _to_protocol(self, data: bytes) -> None:
        if self._closing:
            return
        if self._paused:
            self._held += data
            return
        self._protocol.data_received(data)

    def modem_unplugged(self) -> None:
        self._shutdown(ConnectionResetError("the modem was unplugged"))

    def _shutdown(self, exc: Exception | None) -> None:
        if self._closing:
            return
        self._closing = True
        self._modem.remove_link(self)
        self._loop.call_soon(self._protocol.connection_lost, exc)

    def close(self) -> None:
        self._shutdown(None)

    def abort(self) -> None:
        self._shutdown(None)

    def is_closing(self) -> bool:
        return self._closing

    def pause_reading(self) -> None:
        self._paused = True

    def resume_reading(self) -> None:
        self._paused = False
        if self._held and not self._closing:
            data = bytes(self._held)
            self._held.clear()
            self._protocol.data_received(data)

    def is_reading(self) -> bool:
        return not self._paused and not self._closing

    def can_write_eof(self) -> bool:
        return False

    def get_write_buffer_size(self) -> int:
        return 0

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        return None

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._protocol

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        assert isinstance(protocol, asyncio.Protocol)
        self._protocol = protocol


async def open_in_memory(
    modem: SimModem,
    protocol_factory: Callable[[], asyncio.Protocol],
    *,
    chunk_size: int | None = None,
) -> tuple[asyncio.Transport, asyncio.Protocol]:
    """Connect a protocol to `modem` as create_serial_connection would connect it to a port.

    `chunk_size=1` delivers one byte at a time in both directions. Raises FileNotFoundError
    while the modem is unplugged, as opening a vanished device does.
    """
    if not modem.plugged:
        raise FileNotFoundError(errno.ENOENT, "modem is unplugged", modem.name)
    loop = asyncio.get_running_loop()
    protocol = protocol_factory()
    transport = InMemoryTransport(loop, modem, protocol, chunk_size)
    modem.add_link(transport)
    loop.call_soon(protocol.connection_made, transport)
    await asyncio.sleep(0)
    return transport, protocol
