"""Address fields: TP-OA/TP-DA/TP-RA (length in digits) and the SMSC field (length in octets)."""

from __future__ import annotations

import re

from gateway.sms import gsm7
from gateway.sms.model import NPI_UNKNOWN, Address, AddressType, PduError

TOA_INTERNATIONAL = 0x91
TOA_UNKNOWN = 0x81
TOA_ALPHANUMERIC = 0xD0

MAX_DIGITS = 20
MAX_ALPHANUMERIC = 11

_BCD_DIGITS = "0123456789*#abc"
_NUMBER = re.compile(r"\+?[0-9*#]{1,20}")
_DIGITS = re.compile(r"[0-9*#abc]{1,20}")


def _swap_bcd(digits: str) -> bytes:
    if len(digits) % 2:
        digits += "F"
    out = bytearray()
    for i in range(0, len(digits), 2):
        lo = digits[i]
        hi = digits[i + 1]
        lo_v = 0xF if lo == "F" else _BCD_DIGITS.index(lo)
        hi_v = 0xF if hi == "F" else _BCD_DIGITS.index(hi)
        out.append(hi_v << 4 | lo_v)
    return bytes(out)


def _unswap_bcd(data: bytes, ndigits: int) -> str:
    out: list[str] = []
    for octet in data:
        for nibble in (octet & 0x0F, octet >> 4):
            if len(out) == ndigits or nibble == 0xF:
                return "".join(out)
            out.append(_BCD_DIGITS[nibble])
    return "".join(out)


def parse_number(number: str) -> tuple[int, str]:
    """'+15551234567' -> (0x91, digits); '5551234567' or a short code -> (0x81, digits)."""
    cleaned = number.strip().replace(" ", "").replace("-", "")
    if not _NUMBER.fullmatch(cleaned):
        raise PduError(f"invalid phone number {number!r}")
    if cleaned.startswith("+"):
        return TOA_INTERNATIONAL, cleaned[1:]
    return TOA_UNKNOWN, cleaned


def to_address(value: str | Address) -> Address:
    """An Address as given, or a number written as text ('+...' international, else unknown)."""
    if isinstance(value, Address):
        return value
    toa, digits = parse_number(value)
    return _address(toa, digits)


def encode_address(value: str | Address) -> bytes:
    """A TP-DA/TP-OA/TP-RA with the address's own type of number and numbering plan, so a
    reply goes to exactly the address a message came from."""
    addr = to_address(value)
    if addr.type is AddressType.ALPHANUMERIC:
        return _encode_alphanumeric(addr)
    digits = addr.number[1:] if addr.number.startswith("+") else addr.number
    if not _DIGITS.fullmatch(digits):
        raise PduError(f"invalid phone number {addr.number!r}")
    return bytes((len(digits), addr.toa)) + _swap_bcd(digits)


def encode_number(number: str | Address) -> bytes:
    """A TP-DA/TP-OA/TP-RA for a phone number or short code."""
    return encode_address(number)


def _encode_alphanumeric(addr: Address) -> bytes:
    text = addr.number
    if not text or len(text) > MAX_ALPHANUMERIC:
        raise PduError(f"invalid alphanumeric sender {text!r}: 1 to 11 characters")
    septets = gsm7.encode(text)
    if len(septets) > MAX_ALPHANUMERIC:
        raise PduError(f"alphanumeric sender {text!r} needs more than 11 septets")
    packed = gsm7.pack(septets)
    semi_octets = (len(septets) * 7 + 3) // 4
    return bytes((semi_octets, addr.toa)) + packed


def encode_originator(originator: str | Address) -> bytes:
    """A TP-OA: a number, or an alphanumeric sender ID (up to 11 GSM 7-bit characters)."""
    if isinstance(originator, Address):
        return encode_address(originator)
    if _NUMBER.fullmatch(originator.strip().replace(" ", "")):
        return encode_number(originator)
    return _encode_alphanumeric(Address(originator, AddressType.ALPHANUMERIC, NPI_UNKNOWN))


def encode_smsc(number: str | None) -> bytes:
    """The SMSC field before a TPDU: b'\\x00' means 'use the SMSC stored in the modem'."""
    if not number:
        return b"\x00"
    toa, digits = parse_number(number)
    body = bytes((toa,)) + _swap_bcd(digits)
    return bytes((len(body),)) + body


def _address(toa: int, digits: str) -> Address:
    kind = AddressType.from_ton(toa >> 4)
    number = "+" + digits if kind is AddressType.INTERNATIONAL else digits
    return Address(number, kind, toa & 0x0F)


def decode(data: bytes, pos: int) -> tuple[Address, int]:
    """A TP-OA/TP-DA/TP-RA at `pos` -> (address, position after it)."""
    if pos + 2 > len(data):
        raise PduError("PDU ends inside an address")
    ndigits, toa = data[pos], data[pos + 1]
    if ndigits > MAX_DIGITS:
        raise PduError(f"address length {ndigits} exceeds {MAX_DIGITS} semi-octets")
    noctets = (ndigits + 1) // 2
    body = data[pos + 2 : pos + 2 + noctets]
    if len(body) != noctets:
        raise PduError("PDU ends inside an address")
    end = pos + 2 + noctets
    if (toa >> 4) & 0x07 == 5:
        nseptets = ndigits * 4 // 7
        septets = gsm7.unpack(body, nseptets)
        if nseptets % 8 == 0 and septets.endswith(b"\x00"):
            # Some encoders count whole octets, which adds a zero septet ('@') to 7 characters.
            septets = septets[:-1]
        return Address(gsm7.decode(septets), AddressType.ALPHANUMERIC, toa & 0x0F), end
    return _address(toa, _unswap_bcd(body, ndigits)), end


def decode_smsc(data: bytes) -> tuple[Address | None, int]:
    """The SMSC field at the start of a PDU -> (address or None, position after it)."""
    if not data:
        raise PduError("empty PDU")
    length = data[0]
    if length == 0:
        return None, 1
    if length > 12:
        raise PduError(f"SMSC field length {length} exceeds 12 octets")
    body = data[1 : 1 + length]
    if len(body) != length:
        raise PduError("PDU ends inside the SMSC field")
    digits = _unswap_bcd(body[1:], 2 * (length - 1))
    return _address(body[0], digits), 1 + length
