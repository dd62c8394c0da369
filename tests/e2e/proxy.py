"""A TCP proxy that can drop the network: `python -m tests.e2e.proxy LISTEN_PORT TARGET_PORT`.

SIGUSR1 cuts every open connection and stops listening (new connections are refused, as when a
cable is pulled); SIGUSR2 listens again. It prints "LISTENING" or "CUT" after each change.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys

HOST = "127.0.0.1"


class Proxy:
    def __init__(self, port: int, target: int) -> None:
        self.port = port
        self.target = target
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    async def listen(self) -> None:
        if self.server is None:
            self.server = await asyncio.start_server(self._client, HOST, self.port,
                                                     reuse_address=True)
        print("LISTENING", flush=True)

    async def cut(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        for writer in list(self.writers):
            writer.transport.abort()  # RST, like a dead link: nothing more gets through
        self.writers.clear()
        print("CUT", flush=True)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(HOST, self.target)
        except OSError:
            writer.transport.abort()
            return
        self.writers.update((writer, up_writer))
        try:
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        finally:
            for w in (writer, up_writer):
                self.writers.discard(w)
                w.transport.abort()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        with contextlib.suppress(ConnectionError, OSError, RuntimeError):
            writer.write_eof()


async def main(port: int, target: int) -> None:
    proxy = Proxy(port, target)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGUSR1, lambda: loop.create_task(proxy.cut()))
    loop.add_signal_handler(signal.SIGUSR2, lambda: loop.create_task(proxy.listen()))
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await proxy.listen()
    await stop.wait()
    await proxy.cut()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
