"""Writes from concurrent callers share commits, yet each caller gets its own outcome, durably;
on SQLite nothing that may wait (a lock, an fsync) holds up the event loop, and the pipeline's
commit groups write before waiting sessions."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from gateway.store import InvalidTransitionError, Store, StoreUnavailableError
from gateway.store.gate import WriteGate
from gateway.store.models import PartRow

from .conftest import T0
from .helpers import CUSTOMER, encoded, sms


async def test_concurrent_transitions_each_commit_and_an_invalid_one_fails_alone(
    store_url: str,
) -> None:
    async with await Store.open(store_url) as store:
        line = await store.lines.ensure("line-1")
        parts = []
        for n in range(8):
            queued = await store.outbound.queue_outbound(
                line_id=line.id, to=CUSTOMER, text=f"reply {n}", encoded=encoded(f"reply {n}"),
                now=T0,
            )
            parts.append(queued.message.parts[0].id)
        outcomes = await asyncio.gather(
            *(store.outbound.mark_part_sending(p, now=T0) for p in parts[:4]),
            store.outbound.requeue_part(parts[1], now=T0),  # only a failed part may be
            *(store.outbound.mark_part_sending(p, now=T0) for p in parts[4:]),
            return_exceptions=True,
        )
        refused = outcomes.pop(4)
        moved = outcomes
        assert isinstance(refused, InvalidTransitionError)
        assert [u.part.status for u in moved] == ["sending"] * 8  # type: ignore[union-attr]
        assert len({u.event.seq for u in moved}) == 8  # type: ignore[union-attr]
    async with await Store.open(store_url) as store:  # durable: another connection sees them
        assert await store.outbound.queue_depth(line.id) == 8
        assert await store.outbound.due_parts(line.id, now=T0) == []


async def test_a_commit_that_fails_fails_every_write_of_its_group_and_keeps_none(
    tmp_path: Path,
) -> None:
    path = tmp_path / "locked.db"
    async with await Store.open(f"sqlite:///{path}", sqlite_busy_timeout_ms=50) as store:
        line = await store.lines.ensure("line-1")
        blocker = sqlite3.connect(path, isolation_level=None)
        try:
            blocker.execute("BEGIN EXCLUSIVE")
            outcomes = await asyncio.gather(
                *(store.inbound.record_inbound(line.id, [sms(f"kept {n}")]) for n in range(3)),
                store.events.append("test", {}),
                return_exceptions=True,
            )
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        assert all(isinstance(o, StoreUnavailableError) for o in outcomes)
        assert await store.events.last_seq() == 0
        async with store.db.read() as session:
            assert await session.scalar(text(f"SELECT count(*) FROM {PartRow.__tablename__}")) == 0


@pytest.mark.parametrize("path", ["run_write", "write_session"])
async def test_waiting_for_a_locked_database_does_not_hold_up_the_event_loop(
    tmp_path: Path, path: str
) -> None:
    db_path = tmp_path / "locked.db"
    # The write would give up after 30 s. It succeeds because the test, running on the event loop
    # while the write waits for the lock, releases the lock: a write that held up the loop would
    # time out first (and be done before the release).
    async with await Store.open(f"sqlite:///{db_path}", sqlite_busy_timeout_ms=30_000) as store:
        line = await store.lines.ensure("line-1")
        blocker = sqlite3.connect(db_path, isolation_level=None)

        async def write() -> None:
            if path == "run_write":
                await store.lines.set_status(line.id, "ready")
            else:
                await store.contacts.ensure(CUSTOMER)

        try:
            blocker.execute("BEGIN EXCLUSIVE")
            writing = asyncio.get_running_loop().create_task(write())
            for _ in range(20):  # turns of the loop while the write waits for the lock
                await asyncio.sleep(0.01)
            assert not writing.done()
            blocker.execute("ROLLBACK")
            await writing
        finally:
            if blocker.in_transaction:
                blocker.execute("ROLLBACK")
            blocker.close()
        if path == "run_write":
            assert (await store.lines.get(line.id)).status == "ready"


@pytest.mark.parametrize(("max_wait_s", "expected"), [(10.0, ["group", "session"]),
                                                       (0.0, ["session", "group"])])
async def test_commit_groups_write_before_waiting_sessions_unless_one_waited_too_long(
    max_wait_s: float, expected: list[str]
) -> None:
    gate = WriteGate(session_max_wait_s=max_wait_s)
    order: list[str] = []

    async def take(kind: str) -> None:
        async with gate.group() if kind == "group" else gate.session():
            order.append(kind)

    async with gate.session():
        waiting = [asyncio.get_running_loop().create_task(take(k)) for k in ("session", "group")]
        await asyncio.sleep(0)  # one turn of the loop: each runs to its wait, the session first
    await asyncio.gather(*waiting)
    assert order == expected
