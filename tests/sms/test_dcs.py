"""TP-DCS: every coding group of TS 23.038, read as a receiver must."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway.sms import DataCoding, Deliver, decode_pdu
from gateway.sms.dcs import decode as decode_dcs


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # 00xx: general data coding
        (0x00, DataCoding(0x00, "gsm7")),
        (0x04, DataCoding(0x04, "8bit")),
        (0x08, DataCoding(0x08, "ucs2")),
        (0x0C, DataCoding(0x0C, "gsm7")),  # reserved alphabet: the default one
        (0x10, DataCoding(0x10, "gsm7", message_class=0)),
        (0x11, DataCoding(0x11, "gsm7", message_class=1)),
        (0x16, DataCoding(0x16, "8bit", message_class=2)),
        (0x1B, DataCoding(0x1B, "ucs2", message_class=3)),
        (0x20, DataCoding(0x20, "gsm7", compressed=True)),
        (0x39, DataCoding(0x39, "ucs2", compressed=True, message_class=1)),
        # 01xx: marked for automatic deletion
        (0x40, DataCoding(0x40, "gsm7", auto_delete=True)),
        (0x48, DataCoding(0x48, "ucs2", auto_delete=True)),
        (0x54, DataCoding(0x54, "8bit", message_class=0, auto_delete=True)),
        (0x68, DataCoding(0x68, "ucs2", compressed=True, auto_delete=True)),
        # 1000..1011: reserved, read as the default alphabet
        (0x80, DataCoding(0x80, "gsm7")),
        (0xB7, DataCoding(0xB7, "gsm7")),
        # 1100: message waiting, discard message
        (0xC0, DataCoding(0xC0, "gsm7", mwi=(False, "voicemail"), mwi_store=False)),
        (0xC8, DataCoding(0xC8, "gsm7", mwi=(True, "voicemail"), mwi_store=False)),
        # 1101: message waiting, store message (GSM7)
        (0xD9, DataCoding(0xD9, "gsm7", mwi=(True, "fax"), mwi_store=True)),
        (0xD2, DataCoding(0xD2, "gsm7", mwi=(False, "email"), mwi_store=True)),
        # 1110: message waiting, store message (UCS2)
        (0xEB, DataCoding(0xEB, "ucs2", mwi=(True, "other"), mwi_store=True)),
        # 1111: data coding / message class
        (0xF0, DataCoding(0xF0, "gsm7", message_class=0)),
        (0xF1, DataCoding(0xF1, "gsm7", message_class=1)),
        (0xF4, DataCoding(0xF4, "8bit", message_class=0)),
        (0xF6, DataCoding(0xF6, "8bit", message_class=2)),
        (0xF7, DataCoding(0xF7, "8bit", message_class=3)),
    ],
)
def test_dcs_groups(raw: int, expected: DataCoding) -> None:
    assert decode_dcs(raw) == expected


def test_every_dcs_value_decodes() -> None:
    for raw in range(256):
        assert decode_dcs(raw).raw == raw


def _deliver(dcs: int, ud: bytes, udl: int) -> Deliver:
    hex_pdu = f"00040B917228214365F700{dcs:02X}31308051206180{udl:02X}{ud.hex()}"
    pdu = decode_pdu(hex_pdu)
    assert isinstance(pdu, Deliver)
    return pdu


def test_dcs_0x48_decodes_ucs2_text_not_garbage() -> None:
    pdu = _deliver(0x48, "Привет".encode("utf-16-be"), 12)
    assert pdu.text == "Привет"
    assert pdu.dcs.auto_delete


def test_dcs_0xf4_is_binary_class_0() -> None:
    pdu = _deliver(0xF4, b"\x01\x02\xff", 3)
    assert pdu.text is None
    assert pdu.undisplayable_reason == "8-bit data"
    assert pdu.user_data == b"\x01\x02\xff"
    assert pdu.dcs.message_class == 0


def test_compressed_text_is_undisplayable() -> None:
    pdu = _deliver(0x20, bytes.fromhex("E8329BFD4697D9EC37"), 10)
    assert pdu.text is None
    assert pdu.undisplayable_reason == "compressed user data"


def test_mwi_store_ucs2_carries_text() -> None:
    pdu = _deliver(0xE8, "Voicemail".encode("utf-16-be"), 18)
    assert pdu.text == "Voicemail"
    assert pdu.dcs.mwi == (True, "voicemail")


def test_flash_message_class_0_gsm7() -> None:
    pdu = _deliver(0xF0, bytes.fromhex("E8329BFD4697D9EC37"), 10)
    assert pdu.text == "hellohello"
    assert pdu.dcs.message_class == 0
    assert pdu.scts.tzinfo is not None
    assert pdu.scts.astimezone(UTC) == datetime(2013, 3, 8, 13, 2, 16, tzinfo=UTC)


def test_national_language_shift_is_reported_not_guessed() -> None:
    # UDH with a national single-shift table (IEI 0x24, Turkish = 1): header of 3 octets + UDHL
    ud = bytes((3, 0x24, 1, 1)) + bytes(4)
    hex_pdu = f"00440B917228214365F7000031308051206180{5 + 4:02X}{ud.hex()}"
    pdu = decode_pdu(hex_pdu)
    assert isinstance(pdu, Deliver)
    assert pdu.text is None
    assert pdu.undisplayable_reason is not None
    assert "national language" in pdu.undisplayable_reason
