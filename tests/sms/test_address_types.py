"""Addresses keep what the network gave: type of number, numbering plan, alphanumeric text."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway.sms import Address, AddressType, Deliver, Submit, decode_pdu, encode_deliver
from gateway.sms.pdu import encode_submit

WHEN = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("address", "toa"),
    [
        (Address("+15557654321", AddressType.INTERNATIONAL), 0x91),
        (Address("5557654321", AddressType.NATIONAL), 0xA1),
        (Address("12345", AddressType.UNKNOWN), 0x81),
        (Address("12345", AddressType.NETWORK_SPECIFIC, 0), 0xB0),
        (Address("4567", AddressType.ABBREVIATED), 0xE1),
        (Address("ACME", AddressType.ALPHANUMERIC, 0), 0xD0),
    ],
)
def test_originator_round_trips_with_its_type_and_plan(address: Address, toa: int) -> None:
    [part] = encode_deliver("hi", address, WHEN).parts
    deliver = decode_pdu(part.pdu)
    assert isinstance(deliver, Deliver)
    assert deliver.originator == address
    assert deliver.originator.toa == toa


@pytest.mark.parametrize(
    "address",
    [
        Address("5557654321", AddressType.NATIONAL),
        Address("12345", AddressType.UNKNOWN),
        Address("+15550123", AddressType.INTERNATIONAL),
        Address("77", AddressType.SUBSCRIBER, 9),
    ],
)
def test_a_reply_goes_to_exactly_the_address_a_message_came_from(address: Address) -> None:
    [part] = encode_deliver("question", address, WHEN).parts
    deliver = decode_pdu(part.pdu)
    assert isinstance(deliver, Deliver)
    [reply] = encode_submit("answer", deliver.originator).parts
    submit = decode_pdu(reply.pdu)
    assert isinstance(submit, Submit)
    assert submit.destination == address


def test_alphanumeric_sender_cannot_receive_and_text_numbers_keep_their_old_meaning() -> None:
    assert not Address("ACME", AddressType.ALPHANUMERIC, 0).can_receive
    [part] = encode_submit("x", "+15557654321").parts
    submit = decode_pdu(part.pdu)
    assert isinstance(submit, Submit)
    assert submit.destination == Address("+15557654321", AddressType.INTERNATIONAL)
    [part] = encode_submit("x", "12345").parts
    submit = decode_pdu(part.pdu)
    assert isinstance(submit, Submit)
    assert submit.destination == Address("12345", AddressType.UNKNOWN)
