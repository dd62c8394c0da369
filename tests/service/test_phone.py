"""Addresses of the public: what an agent types becomes the address dialled; a contact's
address as the network gave it says where replies go and whether they can."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway.service.errors import InvalidPhoneError
from gateway.service.phone import cannot_reply_reason, dial_address, reply_address, sender_kind
from gateway.sim.addressing import classify, subscriber_key
from gateway.sms import Address, AddressType
from gateway.store.domain import Contact

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("typed", "region", "expected"),
    [
        ("555-765-4321", "US", Address("+15557654321", AddressType.INTERNATIONAL)),
        ("(555) 765 4321", "US", Address("+15557654321", AddressType.INTERNATIONAL)),
        ("+44 20 7946 0018", "US", Address("+442079460018", AddressType.INTERNATIONAL)),
        ("020 7946 0018", "GB", Address("+442079460018", AddressType.INTERNATIONAL)),
        ("12345", "US", Address("12345", AddressType.UNKNOWN)),
        ("123", "GB", Address("123", AddressType.UNKNOWN)),
    ],
)
def test_what_an_agent_types_is_dialled_as_e164_or_a_short_code(
    typed: str, region: str, expected: Address
) -> None:
    assert dial_address(typed, region) == expected


@pytest.mark.parametrize("typed", ["12", "call me", "+1 55", ""])
def test_what_cannot_be_dialled_is_refused_with_a_reason(typed: str) -> None:
    with pytest.raises(InvalidPhoneError):
        dial_address(typed, "US")


def _contact(number: str, address: str | None = None, ton: int | None = None,
             npi: int | None = None) -> Contact:
    return Contact(1, number, None, False, None, NOW, address, ton, npi)


@pytest.mark.parametrize(
    ("contact", "expected", "kind"),
    [
        (_contact("+15557654321", "5557654321", 2, 1),
         Address("5557654321", AddressType.NATIONAL), "national"),
        (_contact("12345", "12345", 0, 1), Address("12345", AddressType.UNKNOWN), "short_code"),
        (_contact("ACME", "ACME", 5, 0), Address("ACME", AddressType.ALPHANUMERIC, 0),
         "alphanumeric"),
        (_contact("+15550123"), Address("+15550123", AddressType.INTERNATIONAL), "international"),
        (_contact("Bank"), Address("Bank", AddressType.ALPHANUMERIC, 0), "alphanumeric"),
    ],
)
def test_replies_go_to_the_address_as_the_network_gave_it(
    contact: Contact, expected: Address, kind: str
) -> None:
    address = reply_address(contact)
    assert address == expected
    assert sender_kind(address) == kind
    assert (cannot_reply_reason(address) is None) == (kind != "alphanumeric")


@pytest.mark.parametrize(
    ("identity", "kind", "key"),
    [
        ("+15557654321", AddressType.INTERNATIONAL, "+15557654321"),
        ("5557654321", AddressType.NATIONAL, "+15557654321"),
        ("0015557654321", AddressType.INTERNATIONAL, "+15557654321"),
        ("12345", AddressType.UNKNOWN, "12345"),
        ("ACME", AddressType.ALPHANUMERIC, "ACME"),
    ],
)
def test_the_simulated_network_names_each_subscriber_once(
    identity: str, kind: AddressType, key: str
) -> None:
    address = classify(identity)
    assert address.type is kind
    assert subscriber_key(address) == key
