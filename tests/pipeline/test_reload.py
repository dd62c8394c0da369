"""Reload (SIGHUP) brings modems in line with config.yaml without touching the others."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path

import yaml

from gateway.config import parse_config
from gateway.daemon import Daemon
from tests.pipeline.conftest import daemon_config

SECOND = {"name": "second", "number": "+15550199", "simulator": True}


async def test_reload_adds_and_removes_a_modem_and_keeps_the_other(tmp_path: Path) -> None:
    base = daemon_config(tmp_path)
    daemon = Daemon(parse_config(base, base_dir=tmp_path))
    await daemon.start()
    try:
        first = daemon.supervisors["demo"]
        await first.wait_for_state(lambda s: s.can_send, timeout_s=10)

        grown = {**base, "modems": [*base["modems"], SECOND]}
        await daemon.reload(parse_config(grown, base_dir=tmp_path))
        assert daemon.supervisors["demo"] is first
        await daemon.supervisors["second"].wait_for_state(lambda s: s.can_send, timeout_s=10)
        assert first.state.can_send

        await daemon.reload(parse_config(base, base_dir=tmp_path))
        assert set(daemon.supervisors) == {"demo"}
        assert daemon.supervisors["demo"] is first
        assert first.state.can_send
    finally:
        await daemon.stop()


async def test_sighup_reloads_the_running_daemon(tmp_path: Path) -> None:
    config_path = tmp_path / "config.yaml"
    base = daemon_config(tmp_path)
    config_path.write_text(yaml.safe_dump(base))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway", "run", "--config", str(config_path), cwd=tmp_path,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stderr is not None
        await _wait_for(process.stderr, "daemon.ready")
        config_path.write_text(yaml.safe_dump({**base, "modems": [*base["modems"], SECOND]}))
        process.send_signal(signal.SIGHUP)
        await _wait_for(process.stderr, "reload.modem_added")
        config_path.write_text("modems: [{name: bad}]\n")
        process.send_signal(signal.SIGHUP)
        refused = await _wait_for(process.stderr, "reload.refused")
        assert "modems[0]" in refused
    finally:
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(20):
            await process.wait()
    assert process.returncode == 0


async def _wait_for(stream: asyncio.StreamReader, event: str) -> str:
    async with asyncio.timeout(20):
        while True:
            line = (await stream.readline()).decode()
            assert line, f"the daemon exited before logging {event}"
            if line.startswith("{") and json.loads(line).get("event") == event:
                return line
