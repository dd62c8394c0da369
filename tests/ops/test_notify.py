"""sd_notify messages, checked against datagram sockets the test binds as systemd would."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.notify import SystemdNotifier, watchdog_interval_s


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    path = tmp_path / "notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(2.0)
    try:
        yield sock, str(path)
    finally:
        sock.close()


def received(sock: socket.socket) -> list[str]:
    return sock.recv(4096).decode("utf-8").split("\n")


def test_ready_and_status_arrive_as_one_datagram(listener: tuple[socket.socket, str]) -> None:
    sock, path = listener
    notifier = SystemdNotifier(path)
    assert notifier.enabled
    assert notifier.ready("1/1 lines up, 0 queued")
    assert received(sock) == ["READY=1", "STATUS=1/1 lines up, 0 queued"]
    assert notifier.status("0/1 lines up\nmodem unplugged")
    assert received(sock) == ["STATUS=0/1 lines up modem unplugged"]


def test_watchdog_stopping_and_reloading(listener: tuple[socket.socket, str]) -> None:
    sock, path = listener
    notifier = SystemdNotifier(path)
    notifier.watchdog()
    assert received(sock) == ["WATCHDOG=1"]
    notifier.stopping()
    assert received(sock) == ["STOPPING=1"]
    before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    notifier.reloading("reloading config.yaml")
    reloading, monotonic, status = received(sock)
    after = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    assert reloading == "RELOADING=1"
    assert monotonic.startswith("MONOTONIC_USEC=")
    assert before <= int(monotonic.removeprefix("MONOTONIC_USEC=")) <= after
    assert status == "STATUS=reloading config.yaml"


def test_abstract_namespace_socket() -> None:
    name = f"sms-gateway-test-{os.getpid()}-{time.monotonic_ns()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(2.0)
        assert SystemdNotifier("@" + name).ready()
        assert received(sock) == ["READY=1"]


def test_socket_path_comes_from_the_environment(
    listener: tuple[socket.socket, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sock, path = listener
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    assert SystemdNotifier().watchdog()
    assert received(sock) == ["WATCHDOG=1"]


def test_without_notify_socket_everything_is_a_no_op(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    notifier = SystemdNotifier()
    assert not notifier.enabled
    assert notifier.ready() is False
    assert notifier.watchdog() is False


def test_a_vanished_socket_is_reported_not_raised(tmp_path: Path) -> None:
    assert SystemdNotifier(str(tmp_path / "gone")).ready() is False


def test_assignments_must_be_single_lines(listener: tuple[socket.socket, str]) -> None:
    with pytest.raises(ValueError, match="KEY=VALUE"):
        SystemdNotifier(listener[1]).notify("READY=1\nSTATUS=x")


def test_watchdog_interval_follows_watchdog_usec_and_pid() -> None:
    pid = os.getpid()
    assert watchdog_interval_s({"WATCHDOG_USEC": "30000000"}) == 30.0
    assert watchdog_interval_s({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(pid)}) == 30.0
    assert watchdog_interval_s({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(pid + 1)}) is None
    assert watchdog_interval_s({"WATCHDOG_USEC": "0"}) is None
    assert watchdog_interval_s({"WATCHDOG_USEC": "soon"}) is None
    assert watchdog_interval_s({}) is None
