"""Handsets with every kind of identity: short codes, sender names and national numbers send
with the matching type of number, and receive what is sent to their address."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from gateway.sim.control import create_control_app
from gateway.sim.modem import SimModem
from gateway.sim.network import SimNetwork
from gateway.sms import Address, AddressType, Deliver, decode_pdu, encode_submit
from tests.sim.helpers import AtClient

Api = TestClient[Any, Any]


@pytest.fixture
async def api(aiohttp_client: Any, network: SimNetwork, modem: SimModem) -> TestClient[Any, Any]:
    client: TestClient[Any, Any] = await aiohttp_client(create_control_app(network))
    return client


@pytest.mark.parametrize(
    ("identity", "kind", "toa"),
    [
        ("12345", AddressType.UNKNOWN, 0x81),
        ("ACME", AddressType.ALPHANUMERIC, 0xD0),
        ("5557654321", AddressType.NATIONAL, 0xA1),
        ("+15557654321", AddressType.INTERNATIONAL, 0x91),
    ],
)
async def test_handset_sends_with_the_type_of_number_of_its_identity(
    api: TestClient[Any, Any], modem: SimModem, identity: str, kind: AddressType, toa: int
) -> None:
    response = await api.post(f"/handsets/{identity}/send", json={"to": modem.msisdn, "text": "hi"})
    assert response.status == 200, await response.text()
    assert (await response.json())["from_type"] == kind.value
    detail = await (await api.get("/modems/modem1")).json()
    [stored] = detail["storage"]["SM"]["messages"]
    deliver = decode_pdu(stored["pdu"])
    assert isinstance(deliver, Deliver)
    assert (deliver.originator.number, deliver.originator.type) == (identity, kind)
    assert deliver.originator.toa == toa


@pytest.mark.parametrize(
    ("address", "identity"),
    [
        (Address("12345", AddressType.UNKNOWN), "12345"),
        (Address("5557654321", AddressType.NATIONAL), "5557654321"),
        (Address("+15557654321", AddressType.INTERNATIONAL), "5557654321"),
        (Address("5557654321", AddressType.NATIONAL), "+15557654321"),
    ],
)
async def test_a_handset_receives_what_is_sent_to_its_address(
    client: AtClient, api: Api, network: SimNetwork, address: Address, identity: str
) -> None:
    handset = network.handset(identity)
    part = encode_submit("reply", address).parts[0]
    await client.command(f"AT+CMGS={part.tpdu_length}")
    client.write(part.pdu.encode() + b"\x1a")
    assert b"+CMGS:" in await client.wait_for(b"OK\r\n")
    [message] = await handset.wait_for_inbox(1)
    assert message.text == "reply"
    inbox = await (await api.get(f"/handsets/{identity}/inbox")).json()
    assert [m["text"] for m in inbox] == ["reply"]
    assert inbox[0]["from_type"] == "international"


async def test_the_network_refuses_a_part_to_a_sender_name_or_an_unassigned_number(
    client: AtClient, api: Api
) -> None:
    for to in (Address("ACME", AddressType.ALPHANUMERIC, 0), "+15550001111"):
        if isinstance(to, str):
            response = await api.post("/network/faults", json={"kind": "unassigned", "number": to})
            assert response.status == 200
        part = encode_submit("never", to).parts[0]
        await client.command(f"AT+CMGS={part.tpdu_length}")
        client.write(part.pdu.encode() + b"\x1a")
        assert (await client.wait_for(b"ERROR: 1\r\n")).endswith(b"+CMS ERROR: 1\r\n")


async def test_a_sender_name_longer_than_eleven_characters_is_refused(api: Api) -> None:
    response = await api.post("/handsets/TWELVELETTERS/send", json={"to": "+1555", "text": "x"})
    assert response.status == 400
    assert (await response.json())["error"]["code"] == "bad_sender"
