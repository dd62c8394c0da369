"""GSM 03.38 default alphabet with its extension table, and septet packing with fill bits."""

from __future__ import annotations

import unicodedata

from gsm0338.charset import BASIC_CHARACTER_SET, BASIC_CHARACTER_SET_EXTENSION

from gateway.sms.model import PduError

ESCAPE = 0x1B

# Septet -> character. 0x1B is the escape to the extension table, not a character of its own.
BASIC: dict[int, str] = {
    code: unicodedata.lookup(name) for code, name in BASIC_CHARACTER_SET.items() if code != ESCAPE
}
EXTENSION: dict[int, str] = {
    code: unicodedata.lookup(name) for code, name in BASIC_CHARACTER_SET_EXTENSION.items()
}
# Character -> septets (one, or escape + one for the extension table).
_ENCODE: dict[str, bytes] = {ch: bytes((code,)) for code, ch in BASIC.items()}
_ENCODE.update({ch: bytes((ESCAPE, code)) for code, ch in EXTENSION.items()})


def is_gsm7(ch: str) -> bool:
    """True when the character is in the default alphabet or its extension table."""
    return ch in _ENCODE


def septet_length(ch: str) -> int:
    """Septets the character takes: 1, or 2 for an extension-table character."""
    return len(_ENCODE[ch])


def non_gsm7_characters(text: str) -> tuple[str, ...]:
    """Distinct characters outside the alphabet, in the order first seen."""
    return tuple(dict.fromkeys(ch for ch in text if ch not in _ENCODE))


def encode(text: str) -> bytes:
    """Text -> septet values (one per byte). Raises PduError naming unencodable characters."""
    try:
        return b"".join(_ENCODE[ch] for ch in text)
    except KeyError:
        bad = "".join(non_gsm7_characters(text))
        raise PduError(f"characters not in the GSM 7-bit alphabet: {bad!r}") from None


def decode(septets: bytes) -> str:
    """Septet values -> text.

    An escape followed by a code the extension table lacks shows the basic character, as
    TS 23.038 asks of receivers; a dangling escape at the end shows as a space.
    """
    out: list[str] = []
    i = 0
    n = len(septets)
    while i < n:
        code = septets[i] & 0x7F
        if code == ESCAPE:
            if i + 1 >= n:
                out.append(" ")
                break
            nxt = septets[i + 1] & 0x7F
            if nxt == ESCAPE:
                out.append(" ")  # 1B 1B is reserved for a further extension table
            else:
                out.append(EXTENSION.get(nxt, BASIC[nxt]))
            i += 2
            continue
        out.append(BASIC[code])
        i += 1
    return "".join(out)


def pack(septets: bytes, fill_bits: int = 0) -> bytes:
    """Pack septets LSB first, after `fill_bits` zero bits (the padding after a UDH)."""
    acc = 0
    nbits = fill_bits
    out = bytearray()
    for s in septets:
        acc |= (s & 0x7F) << nbits
        nbits += 7
        while nbits >= 8:
            out.append(acc & 0xFF)
            acc >>= 8
            nbits -= 8
    if nbits:
        out.append(acc & 0xFF)
    return bytes(out)


def unpack(data: bytes, count: int, fill_bits: int = 0) -> bytes:
    """Unpack `count` septets that start `fill_bits` bits into `data`."""
    needed = (fill_bits + 7 * count + 7) // 8
    if len(data) < needed:
        raise PduError(f"user data holds {len(data)} octets, {count} septets need {needed}")
    value = int.from_bytes(data[:needed], "little") >> fill_bits
    return bytes((value >> (7 * i)) & 0x7F for i in range(count))
