"""The event log, the connection settings, and what happens when the database cannot be written."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import event, text

from gateway.store import Store, StoreError, StoreUnavailableError

from .conftest import T0
from .helpers import sms


async def test_events_have_increasing_seqs_and_page_from_any_point(store: Store) -> None:
    appended = [await store.events.append("line.status", {"n": n}, now=T0) for n in range(5)]
    seqs = [e.seq for e in appended]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == 5
    assert await store.events.since(0) == appended
    assert await store.events.since(seqs[1], limit=2) == appended[2:4]
    assert await store.events.since(seqs[-1]) == []
    assert await store.events.last_seq() == seqs[-1]
    assert await store.events.first_seq() == seqs[0]


async def test_concurrent_writers_never_leave_a_gap_for_a_reader(store: Store) -> None:
    # A reader polling `since` must see every seq in order even while writers commit.
    async def writer(n: int) -> None:
        for i in range(10):
            await store.events.append("test", {"w": n, "i": i})

    seen: list[int] = []

    async def reader() -> None:
        last = 0
        while len(seen) < 40:
            for logged in await store.events.since(last):
                seen.append(logged.seq)
                last = logged.seq
            await asyncio.sleep(0)

    await asyncio.wait_for(asyncio.gather(reader(), *(writer(n) for n in range(4))), 30)
    assert seen == [e.seq for e in await store.events.since(0)]


async def test_line_status_event_only_when_the_status_changes(store: Store) -> None:
    line = await store.lines.ensure("line-1", "+15550000001", now=T0)
    first = await store.lines.set_status(line.id, "ready", now=T0, details={"signal": 20})
    assert first.event is not None
    assert first.event.type == "line.status"
    assert first.event.data["status"] == "ready"
    assert first.event.data["signal"] == 20
    same = await store.lines.set_status(line.id, "ready", now=T0)
    assert same.event is None
    assert same.line.last_seen == T0
    identified = await store.lines.update_identity(line.id, iccid="8901", imsi="310", imei="35")
    assert identified.iccid == "8901"
    assert await store.lines.find_by_iccid("8901") == identified
    # Configured by name: opening again with a new published number keeps the same line.
    assert (await store.lines.ensure("line-1", "+15550000009")).id == line.id


def _pragma(path: Path, name: str) -> str:
    with sqlite3.connect(path) as connection:
        return str(connection.execute(f"PRAGMA {name}").fetchone()[0])


async def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    path = tmp_path / "g.db"
    async with await Store.open(f"sqlite:///{path}") as store:
        assert _pragma(path, "journal_mode") == "wal"
        async with store.db.read() as session:
            assert (await session.execute(text("PRAGMA foreign_keys"))).scalar() == 1
            assert (await session.execute(text("PRAGMA busy_timeout"))).scalar() == 5000


async def test_in_memory_sqlite_is_refused() -> None:
    with pytest.raises(StoreError, match="file path"):
        await Store.open("sqlite+aiosqlite:///:memory:")


async def test_locked_database_raises_store_unavailable_and_nothing_is_kept(
    tmp_path: Path,
) -> None:
    path = tmp_path / "locked.db"
    async with await Store.open(f"sqlite+aiosqlite:///{path}", sqlite_busy_timeout_ms=50) as store:
        line = await store.lines.ensure("line-1")
        blocker = sqlite3.connect(path, isolation_level=None)
        try:
            blocker.execute("BEGIN EXCLUSIVE")
            with pytest.raises(StoreUnavailableError, match="locked"):
                await store.inbound.record_inbound(line.id, [sms("kept on the modem")])
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        # Retried once the database is free again: stored exactly once.
        result = await store.inbound.record_inbound(line.id, [sms("kept on the modem")])
        assert result.new_parts == 1


async def test_unreachable_database_raises_store_unavailable() -> None:
    with pytest.raises(StoreUnavailableError):
        await Store.open("postgresql+asyncpg://postgres@127.0.0.1:1/none")


async def test_full_disk_raises_store_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "full.db"
    async with await Store.open(f"sqlite+aiosqlite:///{path}") as store:
        line = await store.lines.ensure("line-1")
        pages = int(_pragma(path, "page_count"))

        @event.listens_for(store.db.engine.sync_engine, "connect")
        def _cap(dbapi_connection: object, _record: object) -> None:
            # The file may not grow: what a full disk looks like to SQLite.
            dbapi_connection.cursor().execute(f"PRAGMA max_page_count = {pages}")  # type: ignore[attr-defined]

        await store.db.engine.dispose()
        big = [sms("x" * 150, ref=n % 256, seq=1, total=2, scts=T0) for n in range(400)]
        with pytest.raises(StoreUnavailableError, match="full"):
            await store.inbound.record_inbound(line.id, big)
