"""Addresses of the public: what an agent types becomes the address dialled, and a contact's
address (as the network gave it) says where replies go and whether they can go at all.

E.164 (phonenumbers, with the configured `phone.default_region`) is only for matching and
display; a reply goes to the address exactly as received, with its type of number.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import Literal

import phonenumbers

from gateway.service.errors import InvalidPhoneError
from gateway.sms.model import NPI_ISDN, NPI_UNKNOWN, Address, AddressType
from gateway.store.domain import Contact, Line

SHORT_CODE_DIGITS = range(3, 9)  # short codes are 3 to 8 digits
SenderKind = Literal["international", "national", "short_code", "alphanumeric", "other"]

_REASONS = {
    phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: "its country code is unknown",
    phonenumbers.ValidationResult.TOO_SHORT: "it is too short",
    phonenumbers.ValidationResult.TOO_LONG: "it is too long",
    phonenumbers.ValidationResult.INVALID_LENGTH: "its length is not valid for its country",
}

# What phonenumbers could not read, in the words an agent understands.
_PARSE_REASONS = {
    phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: "its country code is unknown",
    phonenumbers.NumberParseException.NOT_A_NUMBER: "it has no digits to dial",
    phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "it is too short",
    phonenumbers.NumberParseException.TOO_SHORT_NSN: "it is too short",
    phonenumbers.NumberParseException.TOO_LONG: "it is too long",
}


def normalise_phone(raw: str, default_region: str | None) -> str:
    """Return `raw` as E.164 (`+15551234567`) or raise InvalidPhoneError naming the problem."""
    text = raw.strip()
    if not text:
        raise InvalidPhoneError("phone number is empty")
    if len(text) > 32:
        raise InvalidPhoneError("phone number is longer than 32 characters")
    region = default_region.upper() if default_region else None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneError(
            f"{text!r} is not a phone number: {_PARSE_REASONS.get(exc.error_type, exc._msg)}"
        ) from exc
    # "Possible" rather than "valid": numbering plans change faster than the library, and a
    # number an agent was given must not be refused because it is new (or a 555 test number).
    possible = phonenumbers.is_possible_number_with_reason(number)
    if possible != phonenumbers.ValidationResult.IS_POSSIBLE:
        reason = _REASONS.get(possible, "it needs an area code")
        raise InvalidPhoneError(f"phone number {text!r} is not valid: {reason}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def dial_address(raw: str, default_region: str | None) -> Address:
    """The address to dial for what an agent typed: a short code (3 to 8 digits) as typed,
    else the number in the local format of the default region or international, as E.164."""
    compact = "".join(ch for ch in raw.strip() if ch not in " -.()")
    region = default_region.upper() if default_region else "US"
    if compact.isdigit() and phonenumbers.is_emergency_number(compact, region):
        # A contact center's chat is not how anyone reaches the emergency services.
        raise InvalidPhoneError(f"{compact} is an emergency number in {region}: it is not"
                                " texted from here")
    if compact.isdigit() and len(compact) in SHORT_CODE_DIGITS:
        return Address(compact, AddressType.UNKNOWN, NPI_ISDN)
    return Address(normalise_phone(raw, default_region), AddressType.INTERNATIONAL, NPI_ISDN)


def reply_address(contact: Contact) -> Address:
    """Where replies to a contact go: the address it last wrote from, exactly as received;
    for a contact stored before addresses were kept, the address its key implies."""
    return reply_address_of(
        contact.number, (contact.address, contact.address_ton, contact.address_npi)
    )


def reply_address_of(number: str, stored: tuple[str | None, int | None, int | None]) -> Address:
    """reply_address for a contact's key and stored address (text, TON, NPI)."""
    address, ton, npi = stored
    if address is not None and ton is not None:
        return Address(address, AddressType.from_ton(ton), npi if npi is not None else NPI_ISDN)
    digits = number[1:] if number.startswith("+") else number
    if not digits.isdigit():
        return Address(number, AddressType.ALPHANUMERIC, NPI_UNKNOWN)
    if number.startswith("+"):
        return Address(number, AddressType.INTERNATIONAL, NPI_ISDN)
    return Address(number, AddressType.UNKNOWN, NPI_ISDN)


def sender_kind(address: Address) -> SenderKind:
    """What kind of sender an address is, in the words the console shows."""
    if address.type is AddressType.ALPHANUMERIC:
        return "alphanumeric"
    if address.type is AddressType.INTERNATIONAL:
        return "international"
    digits = address.number.lstrip("+")
    if digits.isdigit() and len(digits) in SHORT_CODE_DIGITS:
        return "short_code"
    if address.type in (AddressType.NATIONAL, AddressType.UNKNOWN):
        return "national"
    return "other"


def cannot_reply_reason(address: Address) -> str | None:
    """Why nothing can be sent to this address, in a sentence; None when replies can go."""
    if address.type is AddressType.ALPHANUMERIC:
        return (f"{address.number} is a sender name, not a phone number: it cannot receive"
                " replies.")
    return None


def own_line_reason(typed: str, lines: Iterable[Line], default_region: str | None) -> str | None:
    """Why nothing may be sent to what a person typed: it is one of the gateway's own lines (a
    text to it would come straight back in as a customer's request and ring every agent), as
    typed or as dialled; else None. A number that cannot be dialled is not this function's to
    refuse (dial_address says why)."""
    candidates = {"".join(ch for ch in typed.strip() if ch not in " -.()")}
    with contextlib.suppress(InvalidPhoneError):
        candidates.add(dial_address(typed, default_region).number)
    for line in lines:
        if line.number and line.number in candidates:
            return (f"{line.number} is this gateway's own line {line.name!r}: a text to it"
                    " would come back in as a customer's")
    return None
