"""The daemon's hold on its data directory: one running daemon per data_dir.

A second daemon started on the same directory (a second `make run`, a unit and a hand-started
copy) would share its SQLite database and control socket, and at start mark the first one's
parts in flight as unknown. The hold is an exclusive lock (flock) on `data_dir/daemon.lock`,
which the kernel drops when the process ends however it ends, so a crash leaves nothing to
clean up; the file names the holder's process id for the error message.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

LOCK_NAME = "daemon.lock"
FOLDER_MODE = 0o750


class DataDirInUseError(Exception):
    """Another daemon holds this data directory."""


class DataDirHold:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the directory (creating it); DataDirInUseError when another process has it."""
        self.path.parent.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise DataDirInUseError(
                f"another sms-gateway (process {holder}) is running with data_dir"
                f" {self.path.parent}; stop it first, or give this one its own data_dir"
            ) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing the descriptor drops the lock
            self._fd = None
