"""`sms-gateway sim` as a process: one JSON line first, a working control API, clean SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import aiohttp
import pytest

pytestmark = pytest.mark.slow


async def test_sim_command_prints_devices_serves_control_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway",
        "sim",
        "--modems",
        "2",
        "--dir",
        str(tmp_path),
        "--profile",
        "generic,huawei",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        async with asyncio.timeout(30):
            line = await process.stdout.readline()
        info = json.loads(line)
        assert [(m["name"], m["msisdn"], m["profile"]) for m in info["modems"]] == [
            ("modem1", "+15551230001", "generic"),
            ("modem2", "+15551230002", "huawei"),
        ]
        for entry in info["modems"]:
            device = entry["device"]
            assert os.path.dirname(device) == str(tmp_path)
            assert os.readlink(device).startswith("/dev/pts/")
        url = info["control"]
        assert url.startswith("http://127.0.0.1:")

        async with aiohttp.ClientSession() as http:
            async with http.get(f"{url}/modems") as response:
                assert [m["name"] for m in await response.json()] == ["modem1", "modem2"]
            async with http.post(
                f"{url}/handsets/+15559990000/send", json={"to": "+15551230001", "text": "hi"}
            ) as response:
                assert response.status == 200
                assert (await response.json())["parts"] == 1
            async with http.get(f"{url}/modems/modem1") as response:
                detail = await response.json()
            assert detail["storage"]["SM"]["used"] == 1
            async with http.post(f"{url}/modems/modem9/faults", json={"kind": "hang"}) as response:
                assert response.status == 404
                assert (await response.json())["error"]["code"] == "unknown_modem"

        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(15):
            assert await process.wait() == 0
        assert os.listdir(tmp_path) == []  # the device symlinks are gone
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
