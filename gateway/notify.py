"""systemd's sd_notify protocol: readiness, status text, watchdog pings, reload and stop.

A datagram to the unix socket named by $NOTIFY_SOCKET ('@' prefix: abstract namespace).
Without NOTIFY_SOCKET (not started by systemd, or tests) every call is a no-op.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Mapping

__all__ = ["STATUS_INTERVAL_S", "SystemdNotifier", "report_status", "status_interval_s",
           "watchdog_interval_s"]

# How often the status line is refreshed (more often when the watchdog asks for it).
STATUS_INTERVAL_S = 10.0

_log = logging.getLogger(__name__)


def watchdog_interval_s(
    environ: Mapping[str, str] | None = None, pid: int | None = None
) -> float | None:
    """How often systemd expects WATCHDOG=1, in seconds; None when the watchdog is off.

    This is WatchdogSec itself: ping at least twice per interval (every half of it).
    """
    env = os.environ if environ is None else environ
    usec_text = env.get("WATCHDOG_USEC", "")
    if not usec_text.isdigit() or int(usec_text) == 0:
        return None
    watchdog_pid = env.get("WATCHDOG_PID")
    if watchdog_pid is not None and watchdog_pid != str(os.getpid() if pid is None else pid):
        return None  # meant for another process (our parent, say)
    return int(usec_text) / 1_000_000


class SystemdNotifier:
    """Sends notifications to systemd; a new socket per message, so nothing stays open."""

    def __init__(self, socket_path: str | None = None) -> None:
        path = os.environ.get("NOTIFY_SOCKET") if socket_path is None else socket_path
        self._address: str | None = None
        if path:
            if path.startswith("@"):
                self._address = "\0" + path[1:]
            elif path.startswith("/"):
                self._address = path
            else:
                _log.warning("NOTIFY_SOCKET %r is not a unix socket path; not notifying", path)

    @property
    def enabled(self) -> bool:
        return self._address is not None

    def notify(self, *assignments: str) -> bool:
        """Send KEY=VALUE lines in one datagram; returns whether it was sent."""
        if self._address is None:
            return False
        for assignment in assignments:
            if "=" not in assignment or "\n" in assignment:
                raise ValueError(f"not a single KEY=VALUE line: {assignment!r}")
        payload = "\n".join(assignments).encode("utf-8")
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.setblocking(False)
            try:
                sock.sendto(payload, self._address)
            except OSError as exc:
                # systemd gone or its queue full: the service still runs, so only say so.
                _log.warning("sd_notify failed: %s", exc)
                return False
        return True

    def ready(self, status: str | None = None) -> bool:
        """READY=1: the store is open and the HTTP server listens (also after a reload)."""
        return self.notify("READY=1", *_status(status))

    def status(self, text: str) -> bool:
        return self.notify(*_status(text))

    def watchdog(self) -> bool:
        return self.notify("WATCHDOG=1")

    def reloading(self, status: str | None = None) -> bool:
        """RELOADING=1 with MONOTONIC_USEC, as Type=notify-reload requires; READY=1 ends it."""
        usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        return self.notify("RELOADING=1", f"MONOTONIC_USEC={usec}", *_status(status))

    def stopping(self, status: str | None = None) -> bool:
        return self.notify("STOPPING=1", *_status(status))


def _status(text: str | None) -> tuple[str, ...]:
    if text is None:
        return ()
    return ("STATUS=" + " ".join(text.splitlines()),)


def status_interval_s(watchdog_s: float | None) -> float:
    """How often to send STATUS= and WATCHDOG=1: every STATUS_INTERVAL_S, or every half
    watchdog interval when that is shorter."""
    return min(STATUS_INTERVAL_S, watchdog_s / 2) if watchdog_s else STATUS_INTERVAL_S


async def report_status(
    notifier: SystemdNotifier, summary: Callable[[], Awaitable[str]], interval_s: float
) -> None:
    """Forever: the daemon's one-line summary as STATUS=, and a watchdog ping after it (a
    loop that stops reporting is a hung daemon, which systemd then restarts)."""
    while True:
        notifier.status(await summary())
        notifier.watchdog()
        await asyncio.sleep(interval_s)
