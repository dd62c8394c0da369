"""Real cluster nodes for tests: `sms-gateway run` processes on one PostgreSQL database of their
own, with simulated modems (in the node, or in a `sms-gateway sim` process that outlives it),
and agents talking to them over HTTP and websockets."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import yaml
from sqlalchemy.engine import make_url

from tests.conftest import require_tool

PG_URL = os.environ.get("GATEWAY_TEST_PG_URL")
STARTUP_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _libpq(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


@contextlib.asynccontextmanager
async def pg_database() -> AsyncIterator[str]:
    """A new, empty database on the test server (SQLAlchemy URL); dropped afterwards."""
    if not PG_URL:
        require_tool(False, "cluster tests need GATEWAY_TEST_PG_URL (a PostgreSQL server)")
    assert PG_URL is not None
    name = f"gw_cluster_{secrets.token_hex(5)}"
    admin = await asyncpg.connect(_libpq(PG_URL))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        admin = await asyncpg.connect(_libpq(PG_URL))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def sql(url: str, query: str, *args: Any) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(_libpq(url))
    try:
        rows: list[asyncpg.Record] = await connection.fetch(query, *args)
        return rows
    finally:
        await connection.close()


async def wait_for(check: Any, timeout_s: float = 60.0, interval_s: float = 0.2) -> Any:
    """Poll `check()` (a coroutine function) until it returns something truthy."""
    async with asyncio.timeout(timeout_s):
        while True:
            with contextlib.suppress(aiohttp.ClientError, OSError, asyncpg.PostgresError):
                value = await check()
                if value:
                    return value
            await asyncio.sleep(interval_s)


class Node:
    """One `sms-gateway run` process."""

    def __init__(
        self,
        name: str,
        directory: Path,
        database: str,
        *,
        modems: list[dict[str, Any]],
        demo: bool = False,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.name = name
        self.directory = directory
        self.port = free_port()
        self.sim_port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.sim_url = f"http://127.0.0.1:{self.sim_port}"
        self.demo = demo
        self.process: asyncio.subprocess.Process | None = None
        directory.mkdir(parents=True, exist_ok=True)
        self.log_path = directory / "daemon.log"
        config: dict[str, Any] = {
            "node": {"name": name, "heartbeat_interval_s": 0.5, "lease_ttl_s": 4.0,
                     "event_poll_interval_s": 0.5},
            "database": database,
            "data_dir": str(directory / "data"),
            "http": {"listen": f"127.0.0.1:{self.port}"},
            "simulator": {"control": f"127.0.0.1:{self.sim_port}"},
            "modems": modems,
            "driver": {"reconnect_backoff_initial_s": 0.1, "reconnect_backoff_max_s": 0.5},
            "routing": {"overdue_after_s": 3600},
            "logging": {"level": "info", "format": "json"},
        }
        for key, value in (extra or {}).items():
            config[key] = value
        self.config_path = directory / "config.yaml"
        self.config_path.write_text(yaml.safe_dump(config))

    async def start(self, *, wait: bool = True) -> None:
        args = ["run", "--config", str(self.config_path)] + (["--demo"] if self.demo else [])
        log = self.log_path.open("ab")
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "gateway", *args, cwd=self.directory,
            stdout=log, stderr=log,
        )
        log.close()
        if wait:
            await self.wait_healthy()

    async def wait_healthy(self) -> None:
        async def healthy() -> bool:
            if self.process is not None and self.process.returncode is not None:
                raise AssertionError(f"node {self.name} exited:\n{self.log()[-4000:]}")
            async with aiohttp.ClientSession() as http, http.get(f"{self.url}/healthz") as r:
                return r.status == 200

        try:
            await wait_for(healthy, STARTUP_TIMEOUT_S)
        except TimeoutError:
            raise AssertionError(f"node {self.name} not healthy:\n{self.log()[-4000:]}") from None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_events(self, event: str) -> list[dict[str, Any]]:
        found = []
        for line in self.log().splitlines():
            with contextlib.suppress(ValueError):
                record = json.loads(line)
                if isinstance(record, dict) and record.get("event") == event:
                    found.append(record)
        return found

    async def kill(self) -> None:
        await self._signal(signal.SIGKILL)

    async def stop(self) -> None:
        await self._signal(signal.SIGTERM)

    async def _signal(self, signum: int) -> None:
        if self.process is None:
            return
        if self.process.returncode is None:
            self.process.send_signal(signum)
        try:
            async with asyncio.timeout(STOP_TIMEOUT_S):
                await self.process.wait()
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
            raise AssertionError(f"node {self.name} did not stop:\n{self.log()[-3000:]}") from None
        finally:
            self.process = None


class Agent:
    """A logged-in console: the API with its session cookie and CSRF token."""

    def __init__(self, node: Node, username: str, password: str) -> None:
        self.node = node
        self.username = username
        self.password = password
        self.http = aiohttp.ClientSession(node.url, cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.csrf = ""

    async def login(self) -> Agent:
        async with self.http.post(
            "/api/login", json={"username": self.username, "password": self.password}
        ) as response:
            assert response.status == 200, await response.text()
            self.csrf = (await response.json())["csrf_token"]
        return self

    async def get(self, path: str) -> Any:
        async with self.http.get(path) as response:
            assert response.status == 200, await response.text()
            return await response.json()

    async def post(self, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        async with self.http.post(
            path, json=body, headers={"X-CSRF-Token": self.csrf, "Origin": self.node.url}
        ) as response:
            return response.status, await response.json()

    async def events(self, since: int | None = None) -> aiohttp.ClientWebSocketResponse:
        query = "" if since is None else f"?since={since}"
        return await self.http.ws_connect(
            f"/api/events{query}", headers={"Origin": self.node.url}
        )

    async def close(self) -> None:
        await self.http.close()


async def handset_send(node: Node, phone: str, to: str, text: str) -> None:
    async with aiohttp.ClientSession() as http, http.post(
        f"{node.sim_url}/handsets/{phone}/send", json={"to": to, "text": text}
    ) as response:
        assert response.status == 200, await response.text()


async def handset_inbox(sim_url: str, phone: str) -> list[dict[str, Any]]:
    async with aiohttp.ClientSession() as http, http.get(
        f"{sim_url}/handsets/{phone}/inbox"
    ) as response:
        assert response.status == 200, await response.text()
        body = await response.json()
        messages: list[dict[str, Any]] = body["messages"] if isinstance(body, dict) else body
        return messages


class SimProcess:
    """`sms-gateway sim` in its own process: modems whose stored texts outlive a node."""

    def __init__(self, directory: Path, modems: int) -> None:
        self.directory = directory
        self.count = modems
        self.process: asyncio.subprocess.Process | None = None
        self.control = ""
        self.modems: list[dict[str, Any]] = []

    async def start(self) -> SimProcess:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "gateway", "sim", "--modems", str(self.count),
            "--dir", str(self.directory / "dev"), cwd=self.directory,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        )
        assert self.process.stdout is not None
        described = json.loads(await asyncio.wait_for(self.process.stdout.readline(), 30))
        self.control = described["control"]
        self.modems = described["modems"]
        return self

    def modem_configs(self, prefix: str) -> list[dict[str, Any]]:
        return [
            {"name": f"{prefix}{i + 1}", "number": modem["msisdn"], "device": modem["device"]}
            for i, modem in enumerate(self.modems)
        ]

    async def send(self, http: aiohttp.ClientSession, phone: str, to: str, text: str) -> None:
        async with http.post(
            f"{self.control}/handsets/{phone}/send", json={"to": to, "text": text}
        ) as response:
            assert response.status == 200, await response.text()

    async def stop(self) -> None:
        if self.process is None:
            return
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(20):
            await self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.feed_eof()
        self.process = None
