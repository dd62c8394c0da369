"""The pty transport: opened through its symlink like /dev/ttyUSB2, closed, reopened, unplugged."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import serial_asyncio_fast

from gateway.sim.faults import apply_fault
from gateway.sim.modem import SimModem
from gateway.sim.network import SimNetwork
from gateway.sim.transport import open_pty
from tests.sim.helpers import AtClient


async def _open(path: Path) -> AtClient:
    _, client = await serial_asyncio_fast.create_serial_connection(
        asyncio.get_running_loop(), AtClient, str(path), baudrate=115200
    )
    await asyncio.sleep(0.01)
    assert isinstance(client, AtClient)
    return client


async def _close(client: AtClient) -> None:
    assert client.transport is not None
    client.transport.close()
    await client.wait_closed()


async def test_client_opens_closes_and_reopens_the_device(
    tmp_path: Path, modem: SimModem, network: SimNetwork
) -> None:
    port = await open_pty(modem, tmp_path)
    try:
        path = tmp_path / "modem1"
        assert path.is_symlink()
        assert os.readlink(path).startswith("/dev/pts/")
        assert modem.device == str(path)
        client = await _open(path)
        assert await client.command("AT+CGMI") == b"AT+CGMI\r\r\nSimModem\r\n\r\nOK\r\n"
        await _close(client)
        # The modem lives on while no one has the device open.
        network.handset("+15559990000").send(modem.msisdn, "while closed")
        await asyncio.sleep(0.02)
        client = await _open(path)
        client.take()
        assert (await client.command("AT+CMGL=4")).count(b"+CMGL:") == 1
        await _close(client)
    finally:
        port.close()
    assert not (tmp_path / "modem1").exists()


async def test_unplug_removes_the_path_and_replug_brings_it_back(
    tmp_path: Path, modem: SimModem
) -> None:
    port = await open_pty(modem, tmp_path)
    try:
        path = tmp_path / "modem1"
        client = await _open(path)
        await client.command("AT")
        apply_fault(modem, "unplug", {})
        assert not path.exists()
        await client.wait_closed()
        assert client.transport is not None
        client.transport.close()

        apply_fault(modem, "replug", {"boot_ms": 50})
        assert path.is_symlink()
        client = await _open(path)
        assert await client.wait_for(b"+CPIN: READY\r\n") == b"\r\nRDY\r\n\r\n+CPIN: READY\r\n"
        assert await client.command("AT") == b"AT\r\r\nOK\r\n"
        await _close(client)
    finally:
        port.close()
