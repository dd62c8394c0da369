"""A write session cancelled while its BEGIN IMMEDIATE waits for another process's lock must not
touch the SQLite connection until that step has ended in its thread: the rollback that follows a
cancellation would otherwise run on the same connection from two threads at once."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from pathlib import Path

from sqlalchemy import text

from gateway.store import Store


async def test_cancelled_write_waits_for_its_blocked_begin(
    tmp_path: Path, sqlite_template: Path
) -> None:
    path = tmp_path / "store.db"
    shutil.copyfile(sqlite_template, path)
    # A long busy wait (30 s), so that a loop blocked behind it shows.
    store = await Store.open(
        f"sqlite+aiosqlite:///{path}", default_region="US", sqlite_busy_timeout_ms=30_000
    )
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        entered = asyncio.Event()

        async def write() -> None:
            async with store.db.write() as session:
                entered.set()
                await session.execute(text("SELECT 1"))

        task = asyncio.create_task(write())
        await entered.wait()
        # Its first statement's BEGIN IMMEDIATE now waits in the store's thread for the lock.
        done, _ = await asyncio.wait((task,), timeout=0.3)
        assert not done
        loop = asyncio.get_running_loop()
        cancelled_at = loop.time()
        task.cancel()
        # The loop stays free (so the other process can be let go below), and the task stays
        # until its BEGIN has ended in the thread.
        done, _ = await asyncio.wait((task,), timeout=0.3)
        assert not done, "the cancelled session let go while its BEGIN still ran in a thread"
        # A rollback on the loop thread would have waited out the whole busy timeout (30 s).
        assert loop.time() - cancelled_at < 15, "the loop was blocked behind the thread's BEGIN"
        other.execute("COMMIT")
        done, _ = await asyncio.wait((task,))
        assert task.cancelled()
        async with store.db.write() as session:  # the connection is still sound
            assert (await session.execute(text("SELECT 1"))).scalar() == 1
    finally:
        other.close()
        await store.close()
