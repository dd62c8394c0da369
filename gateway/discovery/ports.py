"""Which serial ports there are: globbed candidates and stable links, one name per device."""

from __future__ import annotations

import contextlib
import glob
import os
import re
import stat
from collections.abc import Iterable
from pathlib import Path

DEFAULT_LINK_DIRS: tuple[str, ...] = ("/dev/serial/by-id",)

_NATURAL_RE = re.compile(r"(\d+)")


def is_serial_device(path: str | Path) -> bool:
    """Whether `path` (following links) is a character device, as a tty is."""
    try:
        return stat.S_ISCHR(os.stat(path).st_mode)
    except OSError:
        return False


def list_candidate_ports(
    patterns: Iterable[str], link_dirs: Iterable[str | Path] = DEFAULT_LINK_DIRS
) -> list[str]:
    """Serial devices matching the glob `patterns`, plus every entry of `link_dirs`.

    One name per real device: a stable link (e.g. /dev/gsm/..., /dev/serial/by-id/...) is
    preferred over the kernel's /dev/ttyUSBn, an earlier pattern over a later one.
    """
    names: list[str] = []
    for pattern in patterns:
        names.extend(sorted(glob.glob(pattern), key=_natural_key))
    for directory in link_dirs:
        with contextlib.suppress(OSError):
            names.extend(sorted((str(p) for p in Path(directory).iterdir()), key=_natural_key))
    chosen: dict[str, str] = {}
    for name in names:
        if not is_serial_device(name):
            continue
        real = os.path.realpath(name)
        current = chosen.get(real)
        if current is None or (not os.path.islink(current) and os.path.islink(name)):
            chosen[real] = name
    return sorted(chosen.values(), key=_natural_key)


def _natural_key(name: str) -> list[object]:
    return [int(part) if part.isdigit() else part for part in _NATURAL_RE.split(name)]
