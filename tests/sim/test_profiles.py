"""Real modems' quirks, one profile at a time."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gateway.sim.modem import SimModem
from gateway.sim.network import SimNetwork
from gateway.sim.profiles import PROFILES, get_profile
from tests.sim.helpers import AtClient, connect


@pytest.fixture
async def make(network: SimNetwork) -> AsyncIterator[object]:
    clients: list[AtClient] = []

    async def factory(profile: str) -> AtClient:
        modem = SimModem(f"m-{profile}", f"+1555123{len(clients):04d}", profile)
        network.attach(modem)
        client = await connect(modem)
        clients.append(client)
        return client

    yield factory
    for client in clients:
        if client.transport is not None:
            client.transport.close()


async def test_every_profile_answers_the_basics(make: object) -> None:
    for name in PROFILES:
        client = await make(name)  # type: ignore[operator]
        assert (await client.command("AT+CGMI")).endswith(b"\r\nOK\r\n")
        assert (await client.command("AT+CPMS=?")).startswith(b"\r\n+CPMS: ")


async def test_huawei(make: object) -> None:
    client: AtClient = await make("huawei")  # type: ignore[operator]
    assert await client.command("AT+MODE=2") == b"\r\nCOMMAND NOT SUPPORT\r\n"
    assert await client.command("AT+CGMI") == b"\r\nhuawei\r\n\r\nOK\r\n"
    await client.command("AT+CMEE=1")
    assert await client.command('AT+CPMS="SM"') == b"\r\n+CMS ERROR: 302\r\n"
    replies = [await client.command("AT+CSQ") for _ in range(5)]
    assert b"\r\n^RSSI: 18\r\n" in b"".join(replies)
    assert any(r == b"\r\n+CSQ: 21,99\r\n\r\n^RSSI: 18\r\n\r\nOK\r\n" for r in replies)


async def test_wavecom(make: object) -> None:
    client: AtClient = await make("wavecom")  # type: ignore[operator]
    assert await client.command("AT+CGMI") == b"\r\n WAVECOM MODEM\r\n\r\nOK\r\n"
    client.write(b"AT+CPIN?\r")
    assert await client.wait_for(b"READY\r\n") == b"\r\n+CPIN: READY\r\n"
    assert await client.quiet() == b""  # no OK follows
    assert (
        await client.command("AT+CPMS=?") == b'\r\n+CPMS: (("SM","BM","SR"),("SM"))\r\n\r\nOK\r\n'
    )
    await client.command("AT+CMEE=1")
    assert await client.command('AT+CPMS="SM","SM","SM"') == b"\r\n+CMS ERROR: 302\r\n"
    assert await client.command("AT+CFUN=1") == b"\r\nOK\r\n"
    assert await client.command("AT") == b"\r\n+CME ERROR: 515\r\n"
    assert await client.command("AT") == b"\r\n+CME ERROR: 515\r\n"
    assert await client.command("AT") == b"\r\nOK\r\n"


async def test_simcom_cannot_read_sr_with_cmgr(make: object, network: SimNetwork) -> None:
    client: AtClient = await make("simcom")  # type: ignore[operator]
    await client.command('AT+CPMS="SR"')
    assert await client.command("AT+CMGR=0") == b"\r\n+CMS ERROR: 321\r\n"


async def test_quectel_indexes_from_zero(make: object, network: SimNetwork) -> None:
    client: AtClient = await make("quectel")  # type: ignore[operator]
    await client.command("AT+CNMI=2,1,0,0,0")
    network.handset("+15559990000").send("+15551230000", "hi")
    assert await client.wait_for(b"+CMTI") == b'\r\n+CMTI: "SM",0\r\n'


def test_unknown_profile_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="generic"):
        get_profile("nokia")
