"""Fixtures for the modem layer: simulated network and modems reached over a pty or in memory."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from gateway.modem import (
    InboundItem,
    ModemDriver,
    ModemSettings,
    ModemSupervisor,
    Opener,
    StoredMessage,
    serial_opener,
)
from gateway.modem.driver import ProtocolFactory
from gateway.sim.modem import SimModem
from gateway.sim.network import SimNetwork
from gateway.sim.transport import PtyPort, open_in_memory, open_pty

CUSTOMER = "+15559990000"

# Small timeouts keep the fault tests fast; production defaults are in gateway/config_sections.py.
FAST: dict[str, Any] = {
    "baud": 115200,
    "min_send_interval_s": 0.0,
    "command_timeout_s": 0.4,
    "prompt_timeout_s": 0.4,
    "send_timeout_s": 1.0,
    "list_timeout_s": 1.0,
    "open_timeout_s": 1.0,
    "settle_s": 0.05,
    "health_poll_interval_s": 0.4,
    "silence_timeout_s": 1.5,
    "reconnect_initial_s": 0.05,
    "reconnect_max_s": 0.3,
    "busy_retry_window_s": 2.0,
    "busy_retry_interval_s": 0.05,
    "sink_retry_initial_s": 0.05,
    "sink_retry_max_s": 0.2,
    "stop_timeout_s": 2.0,
}


async def until(predicate: Callable[[], bool], timeout_s: float = 5.0) -> None:
    """Wait for a condition on simulator state that has no event of its own."""
    async with asyncio.timeout(timeout_s):
        while True:
            if predicate():
                return
            await asyncio.sleep(0.005)


def fast_settings(name: str, **overrides: Any) -> ModemSettings:
    return ModemSettings(name=name, **{**FAST, **overrides})


class SimLines:
    """Creates simulated modems on one network and openers reaching them by `link`."""

    def __init__(self, network: SimNetwork, link: str, directory: Path) -> None:
        self.network = network
        self.link = link
        self.directory = directory
        self.ports: list[PtyPort] = []
        self._count = 0

    def modem(self, profile: str = "generic", **kwargs: Any) -> SimModem:
        self._count += 1
        name = kwargs.pop("name", f"m{self._count}")
        msisdn = kwargs.pop("msisdn", f"+1555123000{self._count}")
        modem = SimModem(name, msisdn, profile, boot_delay_s=0.05, **kwargs)
        self.network.attach(modem)
        return modem

    async def opener(self, modem: SimModem, *, chunk_size: int | None = None) -> Opener:
        if self.link == "memory":

            async def open_memory(
                factory: ProtocolFactory,
            ) -> tuple[asyncio.BaseTransport, asyncio.Protocol]:
                return await open_in_memory(modem, factory, chunk_size=chunk_size)

            return open_memory
        port = await open_pty(modem, self.directory)
        self.ports.append(port)
        return serial_opener(str(port.path))

    async def driver(self, modem: SimModem, **kwargs: Any) -> ModemDriver:
        options = {
            "command_timeout_s": 0.4,
            "prompt_timeout_s": 0.4,
            "send_timeout_s": 1.0,
            "settle_s": 0.05,
            **kwargs,
        }
        return await ModemDriver.open(await self.opener(modem), name=modem.name, **options)

    def close(self) -> None:
        for port in self.ports:
            port.close()


@pytest.fixture
async def network() -> AsyncIterator[SimNetwork]:
    network = SimNetwork(requeue_retry_s=0.1)
    try:
        yield network
    finally:
        await network.aclose()


@pytest.fixture(params=["memory", "pty"])
async def sim(
    request: pytest.FixtureRequest, network: SimNetwork, tmp_path: Path
) -> AsyncIterator[SimLines]:
    lines = SimLines(network, request.param, tmp_path)
    try:
        yield lines
    finally:
        lines.close()


class RecordingSink:
    """A sink that commits to a list; it can fail on demand, like a locked database.

    For every stored message it records whether it was still on the modem at the time of the
    call, which is what "deleted only after the sink returned" means.
    """

    def __init__(self, modem: SimModem | None = None, *, delay_s: float = 0.0) -> None:
        self.modem = modem
        self.delay_s = delay_s
        self.committed: list[InboundItem] = []
        self.calls = 0
        self.failures_left = 0
        self.present_on_modem: list[bool] = []
        self._changed = asyncio.Event()

    async def __call__(self, line_name: str, items: Sequence[InboundItem]) -> None:
        self.calls += 1
        if self.modem is not None:
            for item in items:
                if isinstance(item, StoredMessage):
                    stored = self.modem.storage[item.memory].get(item.index)
                    self.present_on_modem.append(stored is not None and stored.pdu == item.pdu)
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.failures_left > 0:
            self.failures_left -= 1
            raise RuntimeError("database is locked")
        self.committed.extend(items)
        self._changed.set()

    @property
    def pdus(self) -> list[str]:
        return [item.pdu for item in self.committed]

    async def wait_for(self, count: int, timeout_s: float = 5.0) -> list[InboundItem]:
        async with asyncio.timeout(timeout_s):
            while len(self.committed) < count:
                self._changed.clear()
                await self._changed.wait()
        return list(self.committed)


class Line:
    """A supervisor with recording sinks, for one simulated modem."""

    def __init__(
        self,
        modem: SimModem,
        opener: Opener,
        settings: ModemSettings,
    ) -> None:
        self.modem = modem
        self.inbound = RecordingSink(modem)
        self.reports = RecordingSink(modem)
        self.states: list[Any] = []
        self.supervisor = ModemSupervisor(
            settings,
            inbound_sink=self.inbound,
            report_sink=self.reports,
            on_state=self.states.append,
            opener=opener,
        )

    async def ready(self, timeout_s: float = 5.0) -> None:
        """Ready and registered (a modem that just booted registers a moment after init)."""
        await self.supervisor.wait_for_state(
            lambda s: s.status == "ready" and s.registration in ("home", "roaming"), timeout_s
        )

    async def wait_status(self, status: str, timeout_s: float = 5.0) -> None:
        await self.supervisor.wait_for_state(lambda s: s.status == status, timeout_s)


@pytest.fixture
async def start_line(
    sim: SimLines,
) -> AsyncIterator[Callable[..., Any]]:
    lines: list[Line] = []

    async def start(modem: SimModem | None = None, *, ready: bool = True, **overrides: Any) -> Line:
        modem = modem if modem is not None else sim.modem()
        line = Line(modem, await sim.opener(modem), fast_settings(modem.name, **overrides))
        lines.append(line)
        await line.supervisor.start()
        if ready:
            await line.ready()
        return line

    try:
        yield start
    finally:
        for line in lines:
            with contextlib.suppress(Exception):
                await line.supervisor.stop()
