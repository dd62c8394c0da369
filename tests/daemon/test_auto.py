"""`modems: auto`: the daemon finds a configured line's modem by its SIM, loses it when it is
unplugged, and brings it back when it returns, with no busy polling."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from gateway.config import parse_config
from gateway.daemon import Daemon
from gateway.sim import SimRunner, apply_fault


async def test_auto_finds_the_line_by_sim_and_follows_unplug_and_replug(tmp_path: Path) -> None:
    devices = tmp_path / "gsm"
    async with SimRunner(modems=2, directory=devices) as sim:
        wanted, stranger = sim.modems
        stranger.iccid = "8901260999999999999"
        config = parse_config({
            "data_dir": str(tmp_path / "data"),
            "http": {"listen": "127.0.0.1:0"},
            "modems": "auto",
            "lines": [{"name": "main", "number": wanted.msisdn, "iccid": wanted.iccid}],
            "discovery": {"watch_dirs": [str(devices)], "candidates": [f"{devices}/*"],
                          "settle_s": 0.1, "probe_timeout_s": 3.0},
            "driver": {"reconnect_backoff_initial_s": 0.1, "reconnect_backoff_max_s": 0.5},
        }, base_dir=tmp_path)
        daemon = Daemon(config)
        await daemon.start()
        try:
            assert daemon.auto is not None
            await daemon.auto.wait_idle()
            supervisor = daemon.supervisors["main"]
            await supervisor.wait_for_state(lambda s: s.can_send, timeout_s=10)
            assert supervisor.state.identity.iccid == wanted.iccid
            assert [u.device for u in daemon.auto.unknown_devices.values()] == [
                str(devices / stranger.name)
            ]
            status = await daemon.status()
            assert status["unknown_devices"][0]["reason"] == "no_matching_line"

            apply_fault(wanted, "unplug", {})
            await _until(lambda: "main" not in daemon.supervisors)
            apply_fault(wanted, "replug", {})
            await _until(lambda: "main" in daemon.supervisors)
            await daemon.supervisors["main"].wait_for_state(lambda s: s.can_send, timeout_s=10)
        finally:
            await daemon.stop()


async def _until(condition: Callable[[], bool], timeout_s: float = 15.0) -> None:
    async with asyncio.timeout(timeout_s):
        while True:
            if condition():
                return
            await asyncio.sleep(0.05)
