"""TP-DCS: every coding group of TS 23.038 section 4."""

from __future__ import annotations

from gateway.sms.model import DataCoding, Encoding

_ALPHABETS: tuple[Encoding, ...] = ("gsm7", "8bit", "ucs2", "gsm7")  # 0b11 reserved: default
_MWI_KINDS = ("voicemail", "fax", "email", "other")

GSM7 = 0x00
UCS2 = 0x08


def decode(raw: int) -> DataCoding:
    """One DCS octet -> DataCoding. Reserved groups read as the default alphabet, as the
    specification tells a receiver to do."""
    group = raw >> 4
    if group <= 0x7:  # 00xx general data coding, 01xx the same marked for automatic deletion
        return DataCoding(
            raw=raw,
            encoding=_ALPHABETS[(raw >> 2) & 0x03],
            compressed=bool(raw & 0x20),
            message_class=(raw & 0x03) if raw & 0x10 else None,
            auto_delete=bool(raw & 0x40),
        )
    if group <= 0xB:  # 1000..1011 reserved
        return DataCoding(raw=raw, encoding="gsm7")
    if group <= 0xE:  # message waiting indication: discard (GSM7), store (GSM7), store (UCS2)
        return DataCoding(
            raw=raw,
            encoding="ucs2" if group == 0xE else "gsm7",
            mwi=(bool(raw & 0x08), _MWI_KINDS[raw & 0x03]),
            mwi_store=group != 0xC,
        )
    # 1111: data coding / message class; bit 3 is reserved
    return DataCoding(
        raw=raw,
        encoding="8bit" if raw & 0x04 else "gsm7",
        message_class=raw & 0x03,
    )


def for_encoding(encoding: Encoding) -> int:
    return {"gsm7": GSM7, "ucs2": UCS2, "8bit": 0x04}[encoding]
