"""Status and watchdog reporting to systemd: the summary as STATUS=, a WATCHDOG=1 after each,
at the pace the watchdog asks for."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.notify import STATUS_INTERVAL_S, SystemdNotifier, report_status, status_interval_s


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    path = tmp_path / "notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.setblocking(False)
    try:
        yield sock, str(path)
    finally:
        sock.close()


def test_status_interval_is_half_the_watchdog_when_that_is_shorter() -> None:
    assert status_interval_s(None) == STATUS_INTERVAL_S
    assert status_interval_s(60.0) == STATUS_INTERVAL_S
    assert status_interval_s(8.0) == 4.0


async def test_each_summary_is_sent_as_status_then_a_watchdog_ping(
    listener: tuple[socket.socket, str],
) -> None:
    sock, path = listener
    summaries = iter(["1/2 lines up, 0 queued", "2/2 lines up, 3 queued"])

    async def summary() -> str:
        return next(summaries, "2/2 lines up, 3 queued")

    loop = asyncio.get_running_loop()
    task = asyncio.create_task(report_status(SystemdNotifier(path), summary, 0.01))
    try:
        datagrams = [(await loop.sock_recv(sock, 4096)).decode() for _ in range(4)]
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert datagrams == [
        "STATUS=1/2 lines up, 0 queued", "WATCHDOG=1",
        "STATUS=2/2 lines up, 3 queued", "WATCHDOG=1",
    ]
