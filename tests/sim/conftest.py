"""Fixtures of the simulator tests: a network with one modem, and a client on its wire."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gateway.sim.modem import SimModem
from gateway.sim.network import SimNetwork
from tests.sim.helpers import AtClient, connect

MODEM_NUMBER = "+15551230001"
PHONE = "+15559990000"


@pytest.fixture
async def network() -> AsyncIterator[SimNetwork]:
    network = SimNetwork(report_delay_s=0.0)
    yield network
    await network.aclose()


@pytest.fixture
async def modem(network: SimNetwork) -> SimModem:
    modem = SimModem("modem1", MODEM_NUMBER, boot_delay_s=0.05, register_delay_s=0.0)
    network.attach(modem)
    return modem


@pytest.fixture
async def client(modem: SimModem) -> AsyncIterator[AtClient]:
    client = await connect(modem)
    yield client
    if client.transport is not None:
        client.transport.close()
