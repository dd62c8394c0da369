"""Choosing the alphabet and cutting text into parts that fit 140 octets of user data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gateway.sms import gsm7, ucs2
from gateway.sms.model import PduError

TextEncoding = Literal["gsm7", "ucs2"]
EncodingChoice = Literal["auto", "gsm7", "ucs2"]

MAX_USER_DATA_OCTETS = 140
MAX_CONCAT_PARTS = 255

# Units (septets or UTF-16 code units) per part: single, with an 8-bit ref, with a 16-bit ref.
SINGLE_UNITS: dict[TextEncoding, int] = {"gsm7": 160, "ucs2": 70}
PART_UNITS: dict[tuple[TextEncoding, int], int] = {
    ("gsm7", 8): 153,
    ("gsm7", 16): 152,
    ("ucs2", 8): 67,
    ("ucs2", 16): 66,
}


@dataclass(frozen=True, slots=True)
class Split:
    encoding: TextEncoding
    chunks: tuple[str, ...]
    units: tuple[int, ...]  # units used by each chunk
    capacity: int  # units a part may hold (the single-part limit when there is one part)


def choose_encoding(text: str, encoding: EncodingChoice = "auto") -> TextEncoding:
    if encoding == "auto":
        return "gsm7" if all(gsm7.is_gsm7(ch) for ch in text) else "ucs2"
    if encoding == "gsm7":
        gsm7.encode(text)  # raises PduError naming the characters that do not fit
        return "gsm7"
    if encoding == "ucs2":
        return "ucs2"
    raise PduError(f"unknown encoding {encoding!r}")


def unit_length(ch: str, encoding: TextEncoding) -> int:
    return gsm7.septet_length(ch) if encoding == "gsm7" else ucs2.unit_length(ch)


def split_text(text: str, encoding: EncodingChoice = "auto", ref_bits: Literal[8, 16] = 8) -> Split:
    """Cut text into parts by characters, so neither an escape pair nor a surrogate pair is
    ever divided between two parts."""
    if ref_bits not in (8, 16):
        raise PduError(f"reference size must be 8 or 16 bits, not {ref_bits}")
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in text):
        raise PduError("text contains a lone UTF-16 surrogate")
    enc = choose_encoding(text, encoding)
    lengths = [unit_length(ch, enc) for ch in text]
    total = sum(lengths)
    if total <= SINGLE_UNITS[enc]:
        return Split(enc, (text,), (total,), SINGLE_UNITS[enc])
    capacity = PART_UNITS[(enc, ref_bits)]
    chunks: list[str] = []
    units: list[int] = []
    start = 0
    used = 0
    for i, n in enumerate(lengths):
        if used + n > capacity:
            chunks.append(text[start:i])
            units.append(used)
            start, used = i, 0
        used += n
    chunks.append(text[start:])
    units.append(used)
    return Split(enc, tuple(chunks), tuple(units), capacity)
