"""User-data header: information elements, concatenation (IEI 0x00 and 0x08)."""

from __future__ import annotations

from typing import Literal

from gateway.sms.model import Concat, InformationElement, PduError

IEI_CONCAT_8 = 0x00
IEI_CONCAT_16 = 0x08
IEI_NATIONAL_LOCKING_SHIFT = 0x25
IEI_NATIONAL_SINGLE_SHIFT = 0x24

CONCAT_UDH_OCTETS: dict[int, int] = {8: 6, 16: 7}  # UDHL octet included


def parse(header: bytes) -> tuple[InformationElement, ...]:
    """The IEs of a header given without its UDHL octet."""
    ies: list[InformationElement] = []
    i = 0
    while i < len(header):
        if i + 2 > len(header):
            raise PduError("user-data header ends inside an information element")
        iei, length = header[i], header[i + 1]
        data = header[i + 2 : i + 2 + length]
        if len(data) != length:
            raise PduError(f"information element 0x{iei:02X} runs past the user-data header")
        ies.append(InformationElement(iei, bytes(data)))
        i += 2 + length
    return tuple(ies)


def concat_of(ies: tuple[InformationElement, ...]) -> Concat | None:
    """The concatenation IE, if any (the last one wins, as TS 23.040 says of repeats).

    A sequence number of 0 or above the total makes the IE void (TS 23.040 9.2.3.24.1).
    """
    found: Concat | None = None
    for ie in ies:
        if ie.iei == IEI_CONCAT_8 and len(ie.data) == 3:
            ref, total, seq = ie.data
            found = Concat(ref, total, seq, 8)
        elif ie.iei == IEI_CONCAT_16 and len(ie.data) == 4:
            ref = int.from_bytes(ie.data[:2], "big")
            total, seq = ie.data[2], ie.data[3]
            found = Concat(ref, total, seq, 16)
    if found is not None and not 1 <= found.seq <= found.total:
        return None
    return found


def concat_header(ref: int, total: int, seq: int, ref_bits: Literal[8, 16]) -> bytes:
    """A whole UDH (UDHL octet included) holding one concatenation IE."""
    if ref_bits == 8:
        return bytes((5, IEI_CONCAT_8, 3, ref, total, seq))
    return bytes((6, IEI_CONCAT_16, 4, ref >> 8, ref & 0xFF, total, seq))


def build(ies: tuple[InformationElement, ...]) -> bytes:
    """A whole UDH (UDHL octet included) from IEs."""
    body = b"".join(bytes((ie.iei, len(ie.data))) + ie.data for ie in ies)
    return bytes((len(body),)) + body
