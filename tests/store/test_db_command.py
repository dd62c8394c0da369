"""`sms-gateway db upgrade` and `db backup`, run as an admin would."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.store import Store
from gateway.store.migrate import head_revision

from .conftest import T0
from .helpers import sms


def _run(argv: list[str]) -> int:
    # The command runs its own event loop, as it does from a shell.
    return main(argv)


async def test_db_upgrade_uses_the_configured_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("data_dir: data\ndatabase: sqlite:///gateway.db\n")
    status = await asyncio.to_thread(_run, ["db", "upgrade", "--config", str(config)])
    assert status == 0
    assert f"at revision {head_revision()}" in capsys.readouterr().out
    with sqlite3.connect(tmp_path / "gateway.db") as connection:
        [(version,)] = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    assert version == head_revision()


async def test_db_upgrade_reports_an_unreachable_database(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = "postgresql+asyncpg://postgres@127.0.0.1:1/none"
    status = await asyncio.to_thread(_run, ["db", "upgrade", "--database", url])
    assert status == 2
    assert "database upgrade failed" in capsys.readouterr().err


async def test_db_backup_copies_a_store_in_use(tmp_path: Path) -> None:
    path = tmp_path / "live.db"
    copy = tmp_path / "backups" / "copy.db"
    async with await Store.open(f"sqlite+aiosqlite:///{path}") as store:
        line = await store.lines.ensure("line-1")
        await store.inbound.record_inbound(line.id, [sms("before the backup")], now=T0)
        status = await asyncio.to_thread(
            _run, ["db", "backup", str(copy), "--database", f"sqlite:///{path}"]
        )
        assert status == 0
        await store.inbound.record_inbound(line.id, [sms("after the backup")], now=T0)
    with sqlite3.connect(copy) as connection:
        texts = [t for (t,) in connection.execute("SELECT text FROM messages ORDER BY id")]
    assert texts == ["before the backup"]
    assert not (tmp_path / "live.db-wal").exists()


async def test_db_backup_refuses_postgresql(capsys: pytest.CaptureFixture[str]) -> None:
    url = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
    status = await asyncio.to_thread(_run, ["db", "backup", "x.db", "--database", url])
    assert status == 2
    assert "pg_dump" in capsys.readouterr().err


async def test_db_backup_refuses_to_overwrite_a_file_unless_forced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "live.db"
    copy = tmp_path / "copy.db"
    copy.write_bytes(b"an earlier backup")
    async with await Store.open(f"sqlite+aiosqlite:///{path}") as store:
        await store.lines.ensure("line-1")
    args = ["db", "backup", str(copy), "--database", f"sqlite:///{path}"]
    assert await asyncio.to_thread(_run, args) == 2
    assert "already exists; give --force" in capsys.readouterr().err
    assert copy.read_bytes() == b"an earlier backup"
    assert await asyncio.to_thread(_run, [*args, "--force"]) == 0
    with sqlite3.connect(copy) as connection:
        assert connection.execute("SELECT name FROM lines").fetchall() == [("line-1",)]
