"""How the simulated network names its subscribers: an identity (as the control API takes it)
becomes the address the network puts on its messages, and every address maps to one key.

An identity starting with "+" (or "00") is international; 3 to 8 digits are a short code
(type of number unknown, as networks deliver them); more digits are a national number; anything
else is an alphanumeric sender. National numbers and international numbers of the network's
own country reach the same subscriber.
"""

from __future__ import annotations

from gateway.sms import Address, AddressType
from gateway.sms.model import NPI_ISDN, NPI_UNKNOWN

DEFAULT_COUNTRY_CODE = "1"
SHORT_CODE_DIGITS = range(3, 9)
MAX_ALPHANUMERIC = 11


def clean_number(number: str) -> str:
    """Digits as the network compares them: no spaces or dashes, "00" prefix as "+"."""
    cleaned = "".join(ch for ch in number.strip() if ch not in " -().")
    if cleaned.startswith("00") and cleaned[2:].isdigit():
        return "+" + cleaned[2:]
    return cleaned


def classify(identity: str) -> Address:
    """The address a subscriber with this identity sends from."""
    cleaned = clean_number(identity)
    if cleaned.startswith("+") and cleaned[1:].isdigit():
        return Address(cleaned, AddressType.INTERNATIONAL, NPI_ISDN)
    if cleaned.isdigit():
        if len(cleaned) in SHORT_CODE_DIGITS:
            return Address(cleaned, AddressType.UNKNOWN, NPI_ISDN)
        return Address(cleaned, AddressType.NATIONAL, NPI_ISDN)
    text = identity.strip()
    if not 1 <= len(text) <= MAX_ALPHANUMERIC:
        raise ValueError(f"an alphanumeric sender has 1 to {MAX_ALPHANUMERIC} characters: {text!r}")
    return Address(text, AddressType.ALPHANUMERIC, NPI_UNKNOWN)


def subscriber_key(address: Address, country_code: str = DEFAULT_COUNTRY_CODE) -> str:
    """One key per subscriber, whatever type of number a message names it with."""
    number = clean_number(address.number)
    if address.type is AddressType.ALPHANUMERIC or not number.lstrip("+").isdigit():
        return address.number.strip().upper()
    if number.startswith("+"):
        return number
    if address.type is AddressType.INTERNATIONAL:
        return "+" + number
    national = address.type is AddressType.NATIONAL or len(number) not in SHORT_CODE_DIGITS
    if national:
        return "+" + country_code + number.lstrip("0")
    return number
