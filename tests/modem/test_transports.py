"""One exchange, many links: whole chunks, one byte at a time, odd chunks, paced bytes, a pty.

Whatever the link does to the byte stream, the driver must see the same answers and URCs.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from gateway.modem import ModemDriver, Urc, serial_opener
from gateway.modem.driver import Opener, ProtocolFactory
from gateway.sim.faults import apply_fault
from gateway.sim.modem import SimModem
from gateway.sim.network import SimNetwork
from gateway.sim.transport import PtyPort, open_in_memory, open_pty
from gateway.sms import Deliver, decode_pdu, encode_submit
from tests.modem.conftest import CUSTOMER, until

LINKS = ["whole", "bytewise", "chunks-of-7", "paced", "pty"]


def memory_opener(modem: SimModem, chunk_size: int | None) -> Opener:
    async def open_memory(
        factory: ProtocolFactory,
    ) -> tuple[asyncio.BaseTransport, asyncio.Protocol]:
        return await open_in_memory(modem, factory, chunk_size=chunk_size)

    return open_memory


async def exchange(driver: ModemDriver, modem: SimModem, network: SimNetwork) -> list[object]:
    """Init-like commands, a send, a multipart receipt with a URC inside a reply, a cleanup."""
    urcs: list[Urc] = []
    driver.subscribe(urcs.append)
    seen: list[object] = []
    for command in ("AT", "ATE0", "AT+CMEE=1", "AT+CMGF=0", "AT+CGMI", "AT+CNMI=2,1,0,0,0"):
        seen.append(await driver.command(command))
    seen.append(await driver.select_storage("SM", "SM", "SM"))
    part = encode_submit("ping", CUSTOMER).parts[0]
    seen.append(await driver.send_pdu(part.pdu, part.tpdu_length))
    network.handset(CUSTOMER).send(modem.msisdn, "a reply long enough for two parts " * 6)
    await until(lambda: len([u for u in urcs if u.prefix == "+CMTI"]) >= 2)
    apply_fault(modem, "urc_in_reply", {"urc": "^RSSI: 12"})
    listed = await driver.list_messages()
    texts = []
    for message in listed:
        decoded = decode_pdu(message.pdu)
        assert isinstance(decoded, Deliver)
        texts.append((message.index, decoded.concat, decoded.text))
    seen.append(texts)
    for message in listed:
        await driver.delete_message(message.index)
    seen.append(await driver.list_messages())
    seen.append([u.text for u in urcs])
    return seen


@pytest.mark.parametrize("link", LINKS)
async def test_the_same_exchange_over_misbehaving_links(link: str, tmp_path: Path) -> None:
    network = SimNetwork()
    modem = SimModem("m1", "+15551230001", "generic")
    network.attach(modem)
    port: PtyPort | None = None
    if link == "pty":
        port = await open_pty(modem, tmp_path)
        opener = serial_opener(str(port.path))
    else:
        chunk = {"whole": None, "bytewise": 1, "chunks-of-7": 7, "paced": None}[link]
        opener = memory_opener(modem, chunk)
        if link == "paced":
            apply_fault(modem, "slow", {"per_byte_ms": 0.05, "per_response_ms": 5})
    driver = await ModemDriver.open(opener, command_timeout_s=3.0, settle_s=0.05)
    try:
        seen = await exchange(driver, modem, network)
    finally:
        await driver.close()
        if port is not None:
            port.close()
        await network.aclose()
    assert seen[:6] == [(), (), (), (), ("SimModem",), ()]
    assert seen[7] == 0  # TP-MR of the first send
    texts = seen[8]
    assert isinstance(texts, list)
    assert [t[0] for t in texts] == [1, 2]
    assert "".join(t[2] for t in texts) == "a reply long enough for two parts " * 6
    assert seen[9] == []
    assert seen[10] == ['+CMTI: "SM",1', '+CMTI: "SM",2', "^RSSI: 12"]
