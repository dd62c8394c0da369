"""The daemon (in-process) with an SMPP line bound over real TCP to the simulator's SMSC, on the
same simulated network as the handsets, and a logged-in agent on the daemon's HTTP API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gateway.config import parse_config
from gateway.daemon import Daemon
from gateway.service.demo import ensure_demo_accounts
from gateway.sim.runner import SimRunner
from tests.pipeline.conftest import eventually

SHORT_CODE = "12345"
LINE = "shortcode"


def smpp_config(tmp_path: Path, port: int, **line: Any) -> dict[str, Any]:
    return {
        "data_dir": str(tmp_path / "data"),
        "http": {"listen": "127.0.0.1:0"},
        "modems": [],
        "smpp": [{"name": LINE, "number": SHORT_CODE, "host": "127.0.0.1", "port": port,
                  "system_id": "gateway", "password": "secret", "enquire_link_s": 1.0,
                  "response_timeout_s": 2.0, **line}],
        "inbound": {"reassembly_timeout_s": 30.0},
        "sending": {"retry_backoff_s": 0.2, "retry_backoff_max_s": 1.0},
        "driver": {"reconnect_backoff_initial_s": 0.1, "reconnect_backoff_max_s": 0.5},
        "logging": {"level": "warning"},
    }


@dataclass
class Agent:
    http: aiohttp.ClientSession
    url: str
    csrf: str

    async def call(self, method: str, path: str, body: Any = None) -> Any:
        async with self.http.request(
            method, f"{self.url}{path}", json=body,
            headers={"X-CSRF-Token": self.csrf, "Origin": self.url},
        ) as response:
            assert response.status < 300, await response.text()
            return await response.json()


@dataclass
class SmppEnv:
    sim: SimRunner
    daemon: Daemon
    control: aiohttp.ClientSession
    agent: Agent

    async def text(self, sender: str, text: str) -> None:
        async with self.control.post(f"/handsets/{sender}/send",
                                     json={"to": SHORT_CODE, "text": text}) as response:
            assert response.status == 200, await response.text()

    async def inbox(self, number: str) -> list[dict[str, Any]]:
        async with self.control.get(f"/handsets/{number}/inbox") as response:
            result: list[dict[str, Any]] = await response.json()
            return result

    async def smsc(self, kind: str | None = None, **params: Any) -> dict[str, Any]:
        if kind is None:
            async with self.control.get("/smsc") as response:
                status: dict[str, Any] = await response.json()
                return status
        async with self.control.post("/smsc/faults", json={"kind": kind, **params}) as response:
            assert response.status == 200, await response.text()
            status = await response.json()
            return status

    async def settings(self, **body: Any) -> None:
        async with self.control.post("/smsc/settings", json=body) as response:
            assert response.status == 200, await response.text()

    async def line(self) -> dict[str, Any]:
        lines = (await self.agent.call("GET", "/api/lines"))["lines"]
        line: dict[str, Any] = next(line for line in lines if line["name"] == LINE)
        return line

    async def wait_ready(self, timeout_s: float = 15.0) -> dict[str, Any]:
        return await eventually(self.line, lambda line: line["state"] == "ready", timeout_s)


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[SmppEnv]:
    async with SimRunner(modems=0, smpp=("127.0.0.1", 0), control=("127.0.0.1", 0),
                         directory=tmp_path / "dev") as sim:
        assert sim.smpp is not None
        daemon = Daemon(parse_config(smpp_config(tmp_path, sim.smpp.port), base_dir=tmp_path))
        await daemon.start()
        try:
            assert daemon.workflow is not None
            await ensure_demo_accounts(daemon.workflow.accounts)
            assert daemon.http_url is not None
            async with aiohttp.ClientSession(sim.control_url) as control, \
                    aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
                async with http.post(f"{daemon.http_url}/api/login",
                                     json={"username": "agent", "password": "agent-demo"},
                                     headers={"Origin": daemon.http_url}) as response:
                    assert response.status == 200, await response.text()
                    csrf = (await response.json())["csrf_token"]
                env = SmppEnv(sim, daemon, control, Agent(http, daemon.http_url, csrf))
                await env.wait_ready()
                yield env
        finally:
            await daemon.stop()
