"""UCS2 user data, read as UTF-16BE so characters outside the BMP travel as surrogate pairs."""

from __future__ import annotations


def encode(text: str) -> bytes:
    return text.encode("utf-16-be", "surrogatepass")


def decode(data: bytes) -> str:
    """UTF-16BE -> text; a lone surrogate or an odd trailing octet becomes U+FFFD.

    A part of a longer message may end in half a surrogate pair; reassembly joins the raw
    octets of all parts before decoding, so only a part read on its own shows U+FFFD.
    """
    return data.decode("utf-16-be", "replace")


def unit_length(ch: str) -> int:
    """UTF-16 code units the character takes: 2 outside the BMP."""
    return 2 if ord(ch) > 0xFFFF else 1
