"""DeviceWatcher: serial devices appearing and disappearing in a few directories, via inotify.

No polling: the kernel wakes the event loop (loop.add_reader on the inotify descriptor). Events
are debounced: after `settle_s` without events the watched directories are listed again and
compared with what was there, so bursts (udev creating a link through a temporary name, a
modem enumerating its ports one by one), overflows and directories coming and going are all
handled the same way. A watch directory that does not exist yet (/dev/gsm before the first
modem, /dev/serial/by-id after the last one left) is waited for by watching its nearest
existing parent. The directory of a pattern such as /dev/ttyUSB* is watched too, for names
matching it only.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import glob
import os
import stat
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path

import structlog
from inotify_simple import INotify, flags  # type: ignore[import-untyped]  # no type hints shipped

DeviceCallback = Callable[[str], Awaitable[None]]

# What changes the set of names in a directory, and the directory itself going away.
WATCH_MASK: int = (
    flags.CREATE
    | flags.DELETE
    | flags.MOVED_FROM
    | flags.MOVED_TO
    | flags.DELETE_SELF
    | flags.MOVE_SELF
    | flags.ONLYDIR
)
_SELF_GONE: int = flags.DELETE_SELF | flags.MOVE_SELF | flags.IGNORED
_OVERFLOW: int = flags.Q_OVERFLOW
# Events that never stop (a flapping device) still get looked at after this many settle times.
MAX_SETTLE_DELAYS = 5
# Setting up a watch races with the directory being created or removed: retry this often.
WATCH_SETUP_ATTEMPTS = 5

log = structlog.get_logger("gateway.discovery")

DeviceKey = tuple[int, int]  # (inode of the name, device number it leads to)
NameFilter = tuple[str, ...] | None  # globs on the names that matter in a directory; None: all


class DeviceWatcher:
    """Calls `on_added(path)` / `on_removed(path)` for serial devices in `dirs`.

    A path counts when it is a character device (links followed) and matches one of
    `patterns` (globs on the full path), or when no pattern is about its directory: so with
    patterns ("/dev/gsm/*", "/dev/ttyUSB*") every entry of a watched /dev/serial/by-id counts.
    A path whose link was replaced by one to another device is reported removed, then added.
    Callbacks run one at a time, in order (removals first; among additions, links before
    plain device nodes, so the stable name of a port comes first); one that raises is logged
    and the others still run.
    """

    def __init__(
        self,
        dirs: Iterable[str | Path],
        patterns: Iterable[str],
        on_added: DeviceCallback,
        on_removed: DeviceCallback,
        *,
        settle_s: float,
    ) -> None:
        self.dirs: tuple[str, ...] = tuple(dict.fromkeys(os.path.normpath(d) for d in dirs))
        self.patterns: tuple[str, ...] = tuple(os.path.normpath(p) for p in patterns)
        self._pattern_dirs = tuple(os.path.dirname(p) for p in self.patterns)
        # What is looked at: each watch dir (every name), each plain pattern directory (names
        # matching its patterns); patterns with a wildcard in the directory are only globbed.
        self._scan_dirs: dict[str, NameFilter] = {d: None for d in self.dirs}
        self._globbed: tuple[str, ...] = ()
        for pattern in self.patterns:
            directory, name = os.path.split(pattern)
            if glob.has_magic(directory):
                self._globbed += (pattern,)
            elif self._scan_dirs.get(directory, ()) is not None:
                self._scan_dirs[directory] = (*(self._scan_dirs.get(directory) or ()), name)
        self.on_added = on_added
        self.on_removed = on_removed
        self.settle_s = settle_s
        self._known: dict[str, DeviceKey] = {}
        self._inotify: INotify | None = None
        self._watches: dict[str, int] = {}  # watched directory -> watch descriptor
        self._wd_names: dict[int, NameFilter] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._first_event_at = 0.0
        self._task: asyncio.Task[None] | None = None
        self._dirty = False
        self._running = False

    @property
    def devices(self) -> tuple[str, ...]:
        """The devices present as of the last look, sorted."""
        return tuple(sorted(self._known))

    async def start(self) -> None:
        """Start watching, then report every device already present through on_added."""
        if self._running:
            raise RuntimeError("the device watcher is already running")
        loop = asyncio.get_running_loop()
        inotify = INotify(nonblocking=True)
        try:
            loop.add_reader(inotify.fd, self._readable)
        except BaseException:
            inotify.close()
            raise
        self._inotify = inotify
        self._running = True
        log.info("discovery.watching", dirs=list(self.dirs), patterns=list(self.patterns))
        await asyncio.shield(self._reconciling())

    async def stop(self) -> None:
        """Stop watching; a callback in progress is cancelled. Safe to call twice."""
        self._running = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        inotify, self._inotify = self._inotify, None
        if inotify is not None:
            asyncio.get_running_loop().remove_reader(inotify.fd)
            inotify.close()
        self._watches.clear()
        self._wd_names.clear()
        self._known.clear()

    async def rescan(self) -> None:
        """Look at the directories now (without waiting for an event) and report changes."""
        if self._running:
            await asyncio.shield(self._reconciling())

    # events

    def _readable(self) -> None:
        inotify = self._inotify
        if inotify is None:
            return
        try:
            events = inotify.read(timeout=0)
        except OSError:
            log.exception("discovery.inotify_read_failed")
            events = []
        if any(self._matters(event.wd, event.mask, event.name) for event in events):
            self._schedule()

    def _matters(self, wd: int, mask: int, name: str) -> bool:
        if mask & _OVERFLOW:
            return True
        if wd not in self._wd_names:
            return False  # a watch already replaced or removed
        names = self._wd_names[wd]
        if names is None or mask & _SELF_GONE:
            return True
        return any(fnmatch.fnmatchcase(name, pattern) for pattern in names)

    def _schedule(self) -> None:
        """Debounce: look again once nothing has happened for settle_s."""
        if not self._running:
            return
        loop = asyncio.get_running_loop()
        if self._timer is None:
            self._first_event_at = loop.time()
        elif loop.time() - self._first_event_at < MAX_SETTLE_DELAYS * self.settle_s:
            self._timer.cancel()
        else:
            return  # waited long enough: let the pending look happen
        self._timer = loop.call_later(self.settle_s, self._settled)

    def _settled(self) -> None:
        self._timer = None
        if self._running:
            self._reconciling()

    def _reconciling(self) -> asyncio.Task[None]:
        """The one reconcile task: the running one (told to look again), or a new one."""
        task = self._task
        if task is not None and not task.done():
            self._dirty = True
            return task
        task = asyncio.get_running_loop().create_task(self._reconcile(), name="device-watcher")
        self._task = task
        return task

    async def _reconcile(self) -> None:
        while True:
            self._dirty = False
            self._update_watches()
            current = self._scan()
            removed = [
                path for path, key in self._known.items() if current.get(path) != key
            ]
            added = [path for path, key in current.items() if self._known.get(path) != key]
            for path in sorted(removed):
                del self._known[path]
                await self._call(self.on_removed, path, "removed")
            for path in sorted(added, key=lambda p: (not os.path.islink(p), p)):
                self._known[path] = current[path]
                await self._call(self.on_added, path, "added")
            if not self._dirty or not self._running:
                return

    async def _call(self, callback: DeviceCallback, path: str, what: str) -> None:
        log.info(f"discovery.device_{what}", device=path)
        try:
            await callback(path)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("discovery.callback_failed", device=path, change=what)

    # directories

    def _scan(self) -> dict[str, DeviceKey]:
        paths: list[str] = []
        for directory in self._scan_dirs:
            with contextlib.suppress(OSError):
                paths.extend(os.path.join(directory, name) for name in os.listdir(directory))
        for pattern in self._globbed:
            paths.extend(glob.glob(pattern))
        found: dict[str, DeviceKey] = {}
        for path in paths:
            key = self._device_key(path)
            if key is not None:
                found[path] = key
        return found

    def _device_key(self, path: str) -> DeviceKey | None:
        if not self._wanted(path):
            return None
        try:
            link = os.lstat(path)
            target = os.stat(path)
        except OSError:
            return None
        if not stat.S_ISCHR(target.st_mode):
            return None
        return (link.st_ino, target.st_rdev)

    def _wanted(self, path: str) -> bool:
        if any(fnmatch.fnmatchcase(path, pattern) for pattern in self.patterns):
            return True
        directory = os.path.dirname(path)
        return not any(fnmatch.fnmatchcase(directory, d) for d in self._pattern_dirs)

    def _update_watches(self) -> None:
        inotify = self._inotify
        if inotify is None:
            return
        wanted: dict[str, NameFilter] = {}
        for directory, names in self._scan_dirs.items():
            target = self._watch(inotify, directory)
            if target is None:
                continue
            path, child = target
            if child is not None:
                names = (glob.escape(child),)
            if path in wanted:
                previous = wanted[path]
                names = None if previous is None or names is None else (*previous, *names)
            wanted[path] = names
        for path in set(self._watches) - set(wanted):
            wd = self._watches.pop(path)
            self._wd_names.pop(wd, None)
            with contextlib.suppress(OSError):
                inotify.rm_watch(wd)
        self._wd_names = {self._watches[path]: names for path, names in wanted.items()}

    def _watch(self, inotify: INotify, directory: str) -> tuple[str, str | None] | None:
        """Watch `directory`, or its nearest existing parent for the next path component."""
        for _attempt in range(WATCH_SETUP_ATTEMPTS):
            target = _nearest_existing(directory)
            try:
                wd: int = inotify.add_watch(target[0], WATCH_MASK)
            except OSError:
                continue  # vanished (or appeared) in between: look again
            self._watches[target[0]] = wd
            if _nearest_existing(directory) == target:
                return target
        log.warning("discovery.watch_failed", dir=directory)
        return None


def _nearest_existing(directory: str) -> tuple[str, str | None]:
    """(the directory, None) if it exists, else (its nearest existing parent, next name)."""
    path = directory
    child: str | None = None
    while not os.path.isdir(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        child = os.path.basename(path)
        path = parent
    return path, child
