"""SIGKILL in the middle of an inbound burst: after a restart every message is stored once."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from pathlib import Path

import aiohttp
import pytest
import yaml
from sqlalchemy import func, select

from gateway.store import Store, StoreError
from gateway.store.models import MessageRow

BURST = 1000
MULTIPART_EVERY = 10  # every tenth message is a three-part one
CUSTOMERS = [f"+1555800{n:04d}" for n in range(20)]


def _text(n: int) -> str:
    base = f"message {n:04d} "
    return base + "x" * (350 - len(base)) if n % MULTIPART_EVERY == 0 else base + "help"


async def _spawn(*args: str, cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway", *args, cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )


async def _stored(url: str) -> tuple[int, int]:
    store = await Store.open(url, migrate=False)
    try:
        async with store.db.read() as session:
            total = await session.scalar(select(func.count()).select_from(MessageRow))
            distinct = await session.scalar(select(func.count(func.distinct(MessageRow.text))))
            return int(total or 0), int(distinct or 0)
    finally:
        await store.close()


async def _wait_for_some(url: str, at_least: int = 20) -> None:
    async with asyncio.timeout(60):
        while True:
            with contextlib.suppress(StoreError):  # the schema may not be there yet
                if (await _stored(url))[0] >= at_least:
                    return
            await asyncio.sleep(0.1)


async def _stop(process: asyncio.subprocess.Process, sig: int) -> None:
    if process.returncode is None:
        process.send_signal(sig)
    async with asyncio.timeout(20):
        await process.wait()
    if process.stdout is not None:
        process.stdout.feed_eof()


@pytest.mark.slow
@pytest.mark.timeout(180)
async def test_sigkill_during_inbound_burst_loses_and_doubles_nothing(tmp_path: Path) -> None:
    sim = await _spawn("sim", "--modems", "1", "--dir", str(tmp_path / "dev"), cwd=tmp_path)
    daemon: asyncio.subprocess.Process | None = None
    try:
        assert sim.stdout is not None
        described = json.loads(await asyncio.wait_for(sim.stdout.readline(), 20))
        modem = described["modems"][0]
        config = {
            "data_dir": str(tmp_path / "data"),
            "http": {"listen": "127.0.0.1:0"},
            "modems": [{"name": "line1", "number": modem["msisdn"], "device": modem["device"]}],
            "driver": {"reconnect_backoff_initial_s": 0.1, "reconnect_backoff_max_s": 0.5},
            "logging": {"level": "warning"},
        }
        config_path = tmp_path / "config.yaml"
        config_path.write_text(yaml.safe_dump(config))
        url = f"sqlite+aiosqlite:///{tmp_path / 'data' / 'gateway.db'}"
        daemon = await _spawn("run", "--config", str(config_path), cwd=tmp_path)

        async with aiohttp.ClientSession(described["control"]) as http:
            for n in range(BURST):
                sender = CUSTOMERS[n % len(CUSTOMERS)]
                response = await http.post(
                    f"/handsets/{sender}/send", json={"to": modem["msisdn"], "text": _text(n)}
                )
                assert response.status == 200, await response.text()
                if n == BURST // 3:
                    # Kill it while messages are flowing: some read, some committed, some not.
                    await _wait_for_some(url)
                    await _stop(daemon, signal.SIGKILL)
                    killed_at, _ = await _stored(url)
                    assert 0 < killed_at < BURST
                    daemon = await _spawn("run", "--config", str(config_path), cwd=tmp_path)

        deadline = asyncio.get_running_loop().time() + 120
        while True:
            with contextlib.suppress(StoreError):
                total, distinct = await _stored(url)
                if total >= BURST:
                    break
            if asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.5)
        # A message leaves the modem only after it was committed: once the modem's storage is
        # empty, no read is left that could still commit a duplicate.
        async with aiohttp.ClientSession(described["control"]) as http, asyncio.timeout(60):
            while True:
                detail = await (await http.get(f"/modems/{modem['name']}")).json()
                if all(memory["used"] == 0 for memory in detail["storage"].values()):
                    break
                await asyncio.sleep(0.2)
        total, distinct = await _stored(url)
        assert (total, distinct) == (BURST, BURST)
    finally:
        if daemon is not None:
            await _stop(daemon, signal.SIGTERM)
        await _stop(sim, signal.SIGTERM)
        os.sync()
