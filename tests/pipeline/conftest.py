"""A whole daemon on a simulated network, on real ptys, with a real database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from gateway.config import parse_config
from gateway.daemon import Daemon
from tests.conftest import require_tool
from tests.store.conftest import PgDatabases, pg_databases

__all__ = ["pg_databases"]  # the session fixture, shared with the store tests

T = TypeVar("T")

CUSTOMER = "+15557654321"
LINE_NUMBER = "+15550100"


def daemon_config(tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "data_dir": str(tmp_path / "data"),
        "http": {"listen": "127.0.0.1:0"},
        "simulator": {"control": "127.0.0.1:0"},
        "modems": [{"name": "demo", "number": LINE_NUMBER, "simulator": True}],
        "inbound": {"reassembly_timeout_s": 2.0},
        "sending": {"retry_backoff_s": 0.2, "retry_backoff_max_s": 1.0},
        "driver": {"health_poll_interval_s": 5.0, "silence_timeout_s": 20.0,
                   "reconnect_backoff_initial_s": 0.1, "reconnect_backoff_max_s": 0.5},
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            config[key] = {**config[key], **value}
        else:
            config[key] = value
    return config


async def eventually(
    probe: Callable[[], Awaitable[T]], check: Callable[[T], bool], timeout_s: float = 10.0
) -> T:
    """Poll `probe` until `check` accepts its value; fail with the last value seen."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        value = await probe()
        if check(value):
            return value
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"condition not met within {timeout_s} s; last value: {value!r}")
        await asyncio.sleep(0.05)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def daemon(
    request: pytest.FixtureRequest, tmp_path: Path, pg_databases: PgDatabases | None
) -> AsyncIterator[Daemon]:
    overrides: dict[str, Any] = {}
    if request.param == "postgresql":
        require_tool(pg_databases is not None, "PostgreSQL tests need GATEWAY_TEST_PG_URL")
        assert pg_databases is not None
        overrides["database"] = await pg_databases.create()
    instance = Daemon(parse_config(daemon_config(tmp_path, **overrides), base_dir=tmp_path))
    await instance.start()
    try:
        supervisor = instance.supervisors["demo"]
        await supervisor.wait_for_state(lambda s: s.can_send, timeout_s=10)
        yield instance
    finally:
        await instance.stop()
