"""Each fault as a client sees it on the wire."""

from __future__ import annotations

import asyncio
import re
import time

import pytest

from gateway.sim.faults import FaultError, apply_fault
from gateway.sim.modem import SimModem
from gateway.sim.network import SimNetwork
from gateway.sms import encode_submit
from tests.sim.conftest import PHONE
from tests.sim.helpers import AtClient, connect


async def _send_pdu(client: AtClient, text: str) -> bytes:
    part = encode_submit(text, PHONE).parts[0]
    await client.command(f"AT+CMGS={part.tpdu_length}")
    client.write(part.pdu.encode() + b"\x1a")
    return await client.wait_for(re.compile(rb"(OK|ERROR: \d+)\r\n$"))


async def test_hang_stops_answering_until_unhang(client: AtClient, modem: SimModem) -> None:
    apply_fault(modem, "hang", {})
    client.write(b"AT\r")
    assert await client.quiet(0.1) == b""
    apply_fault(modem, "unhang", {})
    assert await client.command("AT") == b"\r\nOK\r\n"


async def test_hang_for_some_seconds_ends_by_itself(client: AtClient, modem: SimModem) -> None:
    apply_fault(modem, "hang", {"seconds": 0.05})
    client.write(b"AT\r")
    assert await client.quiet(0.02) == b""
    await asyncio.sleep(0.06)
    assert await client.command("AT") == b"\r\nOK\r\n"


async def test_reboot_announces_itself_and_resets_settings(
    client: AtClient, modem: SimModem
) -> None:
    await client.command("AT+CMGF=1;+CMEE=2")
    apply_fault(modem, "reboot", {"boot_ms": 30})
    client.write(b"AT\r")
    assert await client.quiet(0.01) == b""  # silent while booting
    assert await client.wait_for(b"+CPIN: READY\r\n") == b"\r\nRDY\r\n\r\n+CPIN: READY\r\n"
    assert await client.command("AT+CMGF?") == b"AT+CMGF?\r\r\n+CMGF: 0\r\n\r\nOK\r\n"


async def test_garbage_bytes_arrive_verbatim(client: AtClient, modem: SimModem) -> None:
    apply_fault(modem, "garbage", {"hex": "00FF1B0D"})
    assert await client.wait_for(b"\r") == b"\x00\xff\x1b\r"
    apply_fault(modem, "garbage", {"length": 5, "seed": 3})
    await asyncio.sleep(0.01)
    assert len(client.take()) == 5
    assert await client.command("AT") == b"\r\nOK\r\n"


async def test_urc_inside_a_reply(client: AtClient, modem: SimModem) -> None:
    apply_fault(modem, "urc_in_reply", {"urc": '+CMTI: "SM",3'})
    assert await client.command("AT+CSQ") == (b'\r\n+CSQ: 21,99\r\n\r\n+CMTI: "SM",3\r\n\r\nOK\r\n')
    assert await client.command("AT+CSQ") == b"\r\n+CSQ: 21,99\r\n\r\nOK\r\n"


async def test_slow_responses(client: AtClient, modem: SimModem) -> None:
    apply_fault(modem, "slow", {"per_response_ms": 80})
    started = time.monotonic()
    assert await client.command("AT") == b"\r\nOK\r\n"
    assert time.monotonic() - started >= 0.08
    apply_fault(modem, "slow", {"per_byte_ms": 5})
    started = time.monotonic()
    assert await client.command("AT+CGMI") == b"\r\nSimModem\r\n\r\nOK\r\n"
    assert time.monotonic() - started >= 0.08
    apply_fault(modem, "slow", {})
    await modem.aclose()


async def test_send_failure_once_then_success(
    client: AtClient, modem: SimModem, network: SimNetwork
) -> None:
    await client.command("AT+CMEE=1")
    apply_fault(modem, "send_failure", {"cms": 500, "times": 1})
    assert (await _send_pdu(client, "first try")).endswith(b"\r\n+CMS ERROR: 500\r\n")
    assert (await _send_pdu(client, "second try")).endswith(b"\r\nOK\r\n")
    inbox = await network.handset(PHONE).wait_for_inbox(1)
    assert [m.text for m in inbox] == ["second try"]


async def test_send_failure_after_the_network_took_it(
    client: AtClient, modem: SimModem, network: SimNetwork
) -> None:
    apply_fault(modem, "send_failure", {"cms": 332, "after_network": True})
    assert (await _send_pdu(client, "sent anyway")).endswith(b"\r\n+CMS ERROR: 332\r\n")
    assert [m.text for m in await network.handset(PHONE).wait_for_inbox(1)] == ["sent anyway"]


async def test_deregistration_reports_creg_and_fails_sends(
    client: AtClient, modem: SimModem, network: SimNetwork
) -> None:
    await client.command("AT+CREG=1")
    apply_fault(modem, "deregister", {})
    assert await client.wait_for(b"+CREG: 2\r\n") == b"\r\n+CREG: 2\r\n"
    assert await client.command("AT+COPS?") == b"\r\n+COPS: 0\r\n\r\nOK\r\n"
    assert (await _send_pdu(client, "no network")).endswith(b"\r\n+CMS ERROR: 331\r\n")
    network.handset(PHONE).send(modem.msisdn, "held while away")
    assert await client.quiet() == b""
    await client.command("AT+CNMI=2,1,0,0,0")
    apply_fault(modem, "register", {})
    arrived = await client.wait_for(b"+CMTI")
    assert b"\r\n+CREG: 1\r\n" in arrived
    assert modem.storage["SM"].used == 1


async def test_storage_full_holds_messages_until_space_frees(
    client: AtClient, modem: SimModem, network: SimNetwork
) -> None:
    await client.command("AT+CNMI=2,1,0,0,0")
    phone = network.handset(PHONE)
    phone.send(modem.msisdn, "one")
    await client.wait_for(b"+CMTI")
    apply_fault(modem, "storage_full", {})
    assert await client.command("AT+CPMS?") == (
        b'\r\n+CPMS: "SM",1,1,"SM",1,1,"SM",1,1\r\n\r\nOK\r\n'
    )
    phone.send(modem.msisdn, "two")
    phone.send(modem.msisdn, "three")
    assert await client.quiet() == b""
    assert network.describe()["held"] == {modem.msisdn: 2}
    await client.command("AT+CMGD=1")
    assert await client.wait_for(b"+CMTI") == b'\r\n+CMTI: "SM",1\r\n'  # one slot, one message
    apply_fault(modem, "storage_free", {})
    assert await client.wait_for(b"+CMTI") == b'\r\n+CMTI: "SM",2\r\n'
    assert network.describe()["held"] == {}


async def test_busy_and_sim_busy(client: AtClient, modem: SimModem) -> None:
    await client.command("AT+CMEE=1")
    apply_fault(modem, "sim_busy", {"seconds": 5})
    assert await client.command("AT+CPMS?") == b"\r\n+CMS ERROR: 314\r\n"
    assert await client.command("AT+CIMI") == b"\r\n+CME ERROR: 14\r\n"
    assert await client.command("AT+CSQ") == b"\r\n+CSQ: 21,99\r\n\r\nOK\r\n"
    apply_fault(modem, "busy", {"seconds": 5})
    assert await client.command("AT+CSQ") == b"\r\n+CME ERROR: 515\r\n"
    apply_fault(modem, "clear", {})
    assert await client.command("AT+CIMI") == b"\r\n001010123456789\r\n\r\nOK\r\n"


async def test_unplug_closes_the_in_memory_link(modem: SimModem) -> None:
    client = await connect(modem)
    apply_fault(modem, "unplug", {})
    await asyncio.sleep(0)
    assert isinstance(client.lost, ConnectionResetError)
    with pytest.raises(FileNotFoundError):
        await connect(modem)
    apply_fault(modem, "replug", {"boot_ms": 10})
    await asyncio.sleep(0.05)
    client = await connect(modem)
    assert await client.command("AT") == b"\r\nOK\r\n"
    assert client.transport is not None
    client.transport.close()


@pytest.mark.parametrize(
    ("kind", "params"),
    [("melt", {}), ("hang", {"seconds": "x"}), ("signal", {"rssi": 40}), ("garbage", {"hex": "z"})],
)
def test_bad_fault_requests_are_refused(kind: str, params: dict[str, object]) -> None:
    modem = SimModem("m", "+1")
    with pytest.raises(FaultError):
        apply_fault(modem, kind, params)
