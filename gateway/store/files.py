"""File modes of the SQLite store: customers' texts are readable by the daemon's user only.

The folder is made 0750 and the database 0600 whatever the umask (`make run` under a login
shell has 0022), before SQLite opens it; SQLite gives its -wal and -shm files the database's
mode. Files and the folder found open to everyone lose those bits. Backups are written 0600.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

FOLDER_MODE = 0o750
FILE_MODE = 0o600
_SIDE_FILES = ("-wal", "-shm", "-journal")


def private_folder(path: Path) -> None:
    """Create `path` (and missing parents) 0750; an existing one loses its bits for others."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    path.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    for created in missing:
        os.chmod(created, FOLDER_MODE)  # mkdir's mode is filtered by the umask
    _close_to_others(path)


def private_file(path: Path) -> None:
    """Create `path` empty 0600 unless it exists; an existing one loses its bits for others."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        _close_to_others(path)
    else:
        os.close(fd)
        os.chmod(path, FILE_MODE)


def private_database(path: Path) -> None:
    """The folder, the database file and any side files SQLite left, closed to others."""
    private_folder(path.parent)
    private_file(path)
    for suffix in _SIDE_FILES:
        side = path.with_name(path.name + suffix)
        if side.exists():
            _close_to_others(side)


def _close_to_others(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o007 and path.owner() == _me():
        os.chmod(path, mode & ~0o007)


def _me() -> str:
    import pwd

    return pwd.getpwuid(os.getuid()).pw_name
