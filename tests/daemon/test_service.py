"""The daemon as systemd and a newcomer see it: sd_notify messages, the demo's welcome and login."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp
import yaml

from tests.pipeline.conftest import daemon_config


async def _spawn(config_path: Path, *extra: str, env: dict[str, str] | None = None,
                 ) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway", "run", "--config", str(config_path), *extra,
        cwd=config_path.parent, env={**os.environ, **(env or {})},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )


async def _finish(process: asyncio.subprocess.Process) -> int:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)  # a second one while stopping is harmless
    async with asyncio.timeout(30):
        await process.communicate()
    assert process.returncode is not None
    return process.returncode


async def test_notifies_ready_status_watchdog_and_stopping(tmp_path: Path) -> None:
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(daemon_config(tmp_path)))
    notify_path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(notify_path))
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    process = await _spawn(config_path, env={"NOTIFY_SOCKET": str(notify_path),
                                            "WATCHDOG_USEC": "2000000"})
    received: list[str] = []
    try:
        async with asyncio.timeout(40):
            while not any("WATCHDOG=1" in m for m in received) or not any(
                "READY=1" in m for m in received
            ):
                received.append((await loop.sock_recv(sock, 4096)).decode())
        ready = next(m for m in received if "READY=1" in m)
        assert "STATUS=" in ready
        assert "lines up" in ready
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            while not any("STOPPING=1" in m for m in received):
                received.append((await loop.sock_recv(sock, 4096)).decode())
        assert await _finish(process) == 0
    finally:
        if process.returncode is None:
            await _finish(process)
        sock.close()


async def test_demo_run_prints_where_to_go_and_the_demo_login_works(tmp_path: Path) -> None:
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(daemon_config(tmp_path)))
    process = await _spawn(config_path, "--demo")
    try:
        assert process.stdout is not None
        async with asyncio.timeout(40):
            welcome = [(await process.stdout.readline()).decode() for _ in range(4)]
        console = welcome[0].rsplit(" ", 1)[-1].strip()
        assert welcome[0].startswith("sms-gateway is running. Agent console: http://127.0.0.1:")
        assert welcome[1].startswith("Customer phone (simulated): ")
        assert "agent / agent-demo (agent)" in welcome[2]
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            async with http.post(
                f"{console}api/login", json={"username": "agent", "password": "agent-demo"},
                headers={"Origin": console.rstrip("/")},
            ) as response:
                assert response.status == 200, await response.text()
                assert (await response.json())["user"]["username"] == "agent"
            async with http.get(f"{console}api/lines") as response:
                [line] = (await response.json())["lines"]
            assert line["name"] == "demo"
            assert line["can_send"] is True
            assert line["registration"] == "home"
            assert isinstance(line["signal"], int)
            assert line["last_error"] is None
            async with http.get(welcome[1].rsplit(" ", 1)[-1].strip()) as page:
                assert page.status == 200
                assert "<html" in (await page.text()).lower()
    finally:
        assert await _finish(process) == 0


async def test_a_start_without_demo_warns_while_the_demo_passwords_still_work(
    tmp_path: Path,
) -> None:
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(daemon_config(tmp_path)))
    first = await _spawn(config_path, "--demo")
    assert first.stdout is not None
    async with asyncio.timeout(40):
        await first.stdout.readline()  # the welcome: the demo accounts exist now
    assert await _finish(first) == 0
    second = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway", "run", "--config", str(config_path),
        cwd=tmp_path, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert second.stderr is not None
        async with asyncio.timeout(40):
            while True:
                line = (await second.stderr.readline()).decode()
                assert line, "the daemon ended without the warning"
                if line.startswith("WARNING: the demo accounts"):
                    break
        assert "agent, supervisor" in line
        assert "sms-gateway user passwd" in line
    finally:
        await _finish(second)
