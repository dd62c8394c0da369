"""The SQLite store, its WAL files and its backups are closed to other users whatever the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.store import Store
from gateway.store.backup import backup_sqlite


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """What `make run` from a login shell has."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


async def test_database_wal_and_backup_are_private_under_a_loose_umask(
    tmp_path: Path, loose_umask: None
) -> None:
    database = tmp_path / "data" / "nested" / "gateway.db"
    async with await Store.open(f"sqlite+aiosqlite:///{database}") as store:
        await store.lines.ensure("line-1", "+15550000001")
        side_files = [database.with_name(database.name + s) for s in ("-wal", "-shm")]
        assert all(p.exists() for p in side_files)
        assert {_mode(p) for p in side_files} == {0o600}
        assert _mode(database) == 0o600
        assert _mode(database.parent) == 0o750
        assert _mode(database.parent.parent) == 0o750
        backup = tmp_path / "backups" / "copy.db"
        backup_sqlite(database, backup)
        assert _mode(backup) == 0o600
        assert _mode(backup.parent) == 0o750


async def test_a_world_readable_database_found_at_start_is_closed_to_others(
    tmp_path: Path, loose_umask: None
) -> None:
    database = tmp_path / "gateway.db"
    async with await Store.open(f"sqlite+aiosqlite:///{database}"):
        pass
    os.chmod(database, 0o644)
    os.chmod(tmp_path, 0o755)
    async with await Store.open(f"sqlite+aiosqlite:///{database}"):
        assert _mode(database) == 0o640
        assert _mode(database) & 0o007 == 0
        assert _mode(tmp_path) & 0o007 == 0
