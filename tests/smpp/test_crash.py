"""SIGKILL of the daemon while the SMSC is delivering: what was committed but not acknowledged
is delivered again and stored once; what was not committed is delivered again and stored."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from pathlib import Path

import aiohttp
import pytest
import yaml

from gateway.store import StoreError
from tests.pipeline.test_crash import _spawn, _stop, _stored, _wait_for_some

BURST = 400
CUSTOMERS = [f"+1555810{n:04d}" for n in range(20)]


def _text(n: int) -> str:
    base = f"short code message {n:04d} "
    return base + "y" * (300 - len(base)) if n % 10 == 0 else base + "please call me"


@pytest.mark.slow
@pytest.mark.timeout(180)
async def test_sigkill_between_commit_and_ack_stores_every_message_once(tmp_path: Path) -> None:
    sim = await _spawn("sim", "--modems", "0", "--smsc", "127.0.0.1:0",
                       "--dir", str(tmp_path / "dev"), cwd=tmp_path)
    daemon: asyncio.subprocess.Process | None = None
    try:
        assert sim.stdout is not None
        described = json.loads(await asyncio.wait_for(sim.stdout.readline(), 20))
        smsc = described["smsc"]
        assert set(smsc) == {"host", "port", "system_id", "password", "number"}
        assert smsc["number"] == "12345"
        config = {
            "data_dir": str(tmp_path / "data"),
            "http": {"listen": "127.0.0.1:0"},
            "modems": [],
            "smpp": [{"name": "shortcode", "number": smsc["number"], "host": smsc["host"],
                      "port": smsc["port"], "system_id": smsc["system_id"],
                      "password": smsc["password"]}],
            "driver": {"reconnect_backoff_initial_s": 0.1, "reconnect_backoff_max_s": 0.5},
            "logging": {"level": "warning"},
        }
        config_path = tmp_path / "config.yaml"
        config_path.write_text(yaml.safe_dump(config))
        url = f"sqlite+aiosqlite:///{tmp_path / 'data' / 'gateway.db'}"
        daemon = await _spawn("run", "--config", str(config_path), cwd=tmp_path)

        async with aiohttp.ClientSession(described["control"]) as http:
            messages = [{"from": CUSTOMERS[n % len(CUSTOMERS)], "to": smsc["number"],
                         "text": _text(n)} for n in range(BURST)]
            response = await http.post("/handsets/send", json={"messages": messages})
            assert response.status == 200, await response.text()
            await _wait_for_some(url, at_least=BURST // 4)
            await _stop(daemon, signal.SIGKILL)
            killed_at, _ = await _stored(url)
            assert 0 < killed_at < BURST
            daemon = await _spawn("run", "--config", str(config_path), cwd=tmp_path)

            deadline = asyncio.get_running_loop().time() + 120
            while asyncio.get_running_loop().time() < deadline:
                with contextlib.suppress(StoreError):
                    if (await _stored(url))[0] >= BURST:
                        break
                await asyncio.sleep(0.5)
            status = await (await http.get("/smsc")).json()
            while status["waiting_for_ack"] and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.2)
                status = await (await http.get("/smsc")).json()
        await asyncio.sleep(1.0)  # anything arriving late would be a duplicate
        total, distinct = await _stored(url)
        assert (total, distinct) == (BURST, BURST)
        parts = BURST + BURST // 10  # every tenth text is in two parts
        assert status["deliveries"] > parts, "the SMSC delivered nothing twice: no crash seen"
        assert status["waiting_for_ack"] == 0
    finally:
        if daemon is not None:
            await _stop(daemon, signal.SIGTERM)
        await _stop(sim, signal.SIGTERM)
