"""The SMSC: routing by number, bit-exact relay, reports, and the impairments it can inflict."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from gateway.sim.faults import FaultError
from gateway.sim.handset import Handset
from gateway.sim.modem import SimModem
from gateway.sim.network import SimNetwork
from gateway.sms import Deliver, decode_pdu
from tests.sim.helpers import eventually

LONG = "Parts of a long message travel separately through the network. " * 4
FIXED = datetime(2024, 5, 17, 12, 30, 5, tzinfo=UTC)


@pytest.fixture
async def phones(network: SimNetwork) -> tuple[Handset, Handset]:
    return network.handset("+15559990000"), network.handset("+15559990001")


async def test_handset_to_handset_multipart_is_reassembled(
    network: SimNetwork, phones: tuple[Handset, Handset]
) -> None:
    a, b = phones
    assert a.send(b.msisdn, LONG) == 2
    assert a.send(b.msisdn, "Ünïcödé 👋", encoding="auto") == 1
    inbox = await b.wait_for_inbox(2)
    assert [(m.from_, m.text, m.parts) for m in inbox] == [
        (a.msisdn, LONG, 2),
        (a.msisdn, "Ünïcödé 👋", 1),
    ]


async def test_relay_keeps_user_data_bit_for_bit_and_uses_the_clock() -> None:
    network = SimNetwork(clock=lambda: FIXED)
    try:
        modem = SimModem("m", "+15551230001")
        network.attach(modem)
        phone = network.handset("+15559990000")
        phone.send(modem.msisdn, "exact", ref_bits=16)
        await asyncio.sleep(0.01)
        stored = modem.storage["SM"].snapshot()[0]
        deliver = decode_pdu(stored.pdu)
        assert isinstance(deliver, Deliver)
        assert deliver.scts == FIXED
        assert deliver.smsc is not None
        assert deliver.smsc.number == network.smsc
        assert deliver.text == "exact"
    finally:
        await network.aclose()


async def test_drop_duplicate_and_reorder(
    network: SimNetwork, phones: tuple[Handset, Handset]
) -> None:
    a, b = phones
    network.apply_fault("drop", {"times": 1})
    a.send(b.msisdn, "lost")
    network.apply_fault("duplicate", {"times": 1})
    a.send(b.msisdn, "twice")
    network.apply_fault("reorder", {})
    a.send(b.msisdn, LONG)
    inbox = await b.wait_for_inbox(3)
    assert [m.text for m in inbox] == ["twice", "twice", LONG]
    seqs = [p.concat.seq for p in b.received_parts if p.concat is not None]
    assert seqs == [2, 1]
    assert [p.submit.user_data for p in network.dropped] != []


async def test_delay_lets_a_later_part_overtake(
    network: SimNetwork, phones: tuple[Handset, Handset]
) -> None:
    a, b = phones
    network.apply_fault("delay", {"seconds": 0.1, "times": 1})
    a.send(b.msisdn, "slow")
    a.send(b.msisdn, "fast")
    assert [m.text for m in await b.wait_for_inbox(2)] == ["fast", "slow"]


def test_unknown_network_fault_is_refused(network: SimNetwork) -> None:
    with pytest.raises(FaultError):
        network.apply_fault("earthquake", {})


async def test_unplugged_modem_gets_its_messages_after_replug(
    network: SimNetwork, modem: SimModem, phones: tuple[Handset, Handset]
) -> None:
    modem.unplug()
    phones[0].send(modem.msisdn, "while unplugged")
    await asyncio.sleep(0.01)
    assert modem.storage["SM"].used == 0
    modem.replug(0.01)
    await eventually(lambda: modem.storage["SM"].used == 1)
