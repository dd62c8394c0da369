"""The line board mirrors what the supervisors say to the store and the bus, and writes only what
changes something stored or shown."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.bus import BusEvent, EventBus, Publisher
from gateway.modem.model import Identity, LineState
from gateway.pipeline.lines import LineBoard
from gateway.store import Store

T0 = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
READY = LineState(
    name="demo", status="ready", since=T0, signal_dbm=-71, signal_csq=21, registration="home",
    identity=Identity(model="GSM-27005", imei="356938035643809", imsi="001010123456789",
                      iccid="8901260123456789012"),
)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        yield opened
    finally:
        await opened.close()


async def _settled(store: Store) -> int:
    """The newest event seq, once the board had time to write what it was given."""
    await asyncio.sleep(0.2)
    return await store.events.last_seq()


async def test_only_changes_that_are_stored_or_shown_are_written(store: Store) -> None:
    line = await store.lines.ensure("demo", "+15550100", now=T0)
    bus = EventBus()
    published: list[BusEvent] = []
    bus.listen(published.append)
    board = LineBoard(store, Publisher(bus), {"demo": line.id})
    try:
        board.on_state(READY)
        first = await _settled(store)
        stored = await store.lines.get(line.id)
        assert (stored.status, stored.iccid, stored.model) == ("ready", READY.identity.iccid,
                                                              "GSM-27005")
        assert [e.type for e in published] == ["line.status"]

        # The radio moves within one 5 dBm step, twice: nothing to store, nothing to show.
        board.on_state(replace(READY, signal_dbm=-73, signal_csq=20))
        board.on_state(replace(READY, signal_dbm=-74, signal_csq=20))
        assert await _settled(store) == first
        assert (await store.lines.get(line.id)).last_seen == stored.last_seen
        assert len(published) == 1

        # A step the line strip shows, then a new status: each stored and published.
        board.on_state(replace(READY, signal_dbm=-60, signal_csq=26))
        assert await _settled(store) == first + 1
        board.on_state(replace(READY, status="down", signal_dbm=-60, signal_csq=26))
        assert await _settled(store) == first + 2
        assert (await store.lines.get(line.id)).status == "down"
        assert [e.data["status"] for e in published] == ["ready", "ready", "down"]
        assert [e.data["signal_dbm"] for e in published] == [-71, -60, -60]
    finally:
        await board.close()
