"""Decoding published PDUs: specification examples and captures from real networks."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from gateway.sms import (
    AddressType,
    Concat,
    Deliver,
    PduError,
    StatusReport,
    Submit,
    decode_pdu,
)


def tz(hours: float) -> timezone:
    return timezone(timedelta(hours=hours))


def test_deliver_from_the_classic_tutorial_with_smsc_and_1999_timestamp() -> None:
    pdu = decode_pdu("07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC37")
    assert isinstance(pdu, Deliver)
    assert pdu.smsc is not None
    assert pdu.smsc.number == "+27381000015"
    assert pdu.originator.number == "27838890001"
    assert pdu.text == "hellohello"
    assert pdu.scts == datetime(1999, 3, 29, 15, 16, 59, tzinfo=tz(2))
    assert pdu.tp_udl == 10
    assert pdu.tp_ud == bytes.fromhex("E8329BFD4697D9EC37")


def test_submit_with_relative_validity_and_no_smsc() -> None:
    pdu = decode_pdu("0011000B916407281553F80000AA0AE8329BFD4697D9EC37")
    assert isinstance(pdu, Submit)
    assert pdu.smsc is None
    assert pdu.destination.number == "+46708251358"
    assert pdu.destination.type is AddressType.INTERNATIONAL
    assert pdu.validity_minutes == 4 * 24 * 60  # 0xAA = 170 -> 4 days
    assert pdu.text == "hellohello"
    assert not pdu.status_report_request


@pytest.mark.parametrize(
    ("hex_pdu", "number", "text", "when"),
    [
        (
            "06917228195339040B917228214365F700003130805120618005D4F29C2E03",
            "+27821234567",
            "Test2",
            datetime(2013, 3, 8, 15, 2, 16, tzinfo=tz(2)),
        ),
        (
            "07915892000000F0040B915892214365F700007040213252242331493A283D0795C3F33C88FE06C9CB"
            "6132885EC6D341EDF27C1E3E97E7207B3A0C0A5241E377BB1D7693E72E",
            "+85291234567",
            "It is easy to read text messages via AT commands.",
            datetime(2007, 4, 12, 23, 25, 42, tzinfo=tz(8)),
        ),
        (
            "06917228195339040B917228214365F70000313062315352800A800D8A5E98D337A910",
            "+27821234567",
            "@{tést}!",
            datetime(2013, 3, 26, 13, 35, 25, tzinfo=tz(2)),
        ),
        (
            "07911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD07",
            "+31641600986",
            "How are you?",
            datetime(2002, 8, 26, 19, 37, 41, tzinfo=tz(0)),
        ),
    ],
)
def test_published_deliver_pdus(hex_pdu: str, number: str, text: str, when: datetime) -> None:
    pdu = decode_pdu(hex_pdu)
    assert isinstance(pdu, Deliver)
    assert (pdu.originator.number, pdu.text, pdu.scts) == (number, text, when)
    assert pdu.scts.utcoffset() == when.utcoffset()


def test_alphanumeric_sender_with_ucs2_concatenated_part() -> None:
    pdu = decode_pdu(
        "07919762020033F1400DD0CDF2396C7EBB010008415072411084618C0500035602010053004D00530020"
        "0063006F00640065003A00200034003800350036002C00200063006F006E006600690072006D00610074"
        "0069006F006E0020006F00660020006100730073006F00630069006100740069006F006E002000620065"
        "0074007700650065006E0020006100630063006F0075006E007400200061006E00640020004D00650067"
    )
    assert isinstance(pdu, Deliver)
    assert pdu.originator.number == "Megafon"
    assert pdu.originator.type is AddressType.ALPHANUMERIC
    assert pdu.concat == Concat(ref=0x56, total=2, seq=1, ref_bits=8)
    assert pdu.text == "SMS code: 4856, confirmation of association between account and Meg"
    assert pdu.scts == datetime(2014, 5, 27, 14, 1, 48, tzinfo=tz(4))


def test_gsm7_part_with_concat_header_skips_the_fill_bit() -> None:
    pdu = decode_pdu(
        "0591721891F1400781721881F800003160526104848059050003C30101916536FB1DCABEEB2074D85E06"
        "4941B19CAB060319A5C522289C96D3D3ED32286C0FA7D96131BBEC024941B19CAB0603DDD36C36A88C87"
        "A7E565D0DB0D82C55EB0DB4B068BCD5C20"
    )
    assert isinstance(pdu, Deliver)
    assert pdu.originator == pdu.originator.__class__("2781188", AddressType.UNKNOWN)
    assert pdu.text == (
        "Hello!You have R 19.50 FREE airtime available. R 19.50 will expire on 01/07/2013. "
    )
    assert pdu.concat == Concat(0xC3, 1, 1, 8)


def test_ucs2_submit_and_absolute_validity_submit() -> None:
    pdu = decode_pdu("07914346466554F601000B914316565811F9000806304253F68449")
    assert isinstance(pdu, Submit)
    assert pdu.text == "あ叶葉"
    absolute = decode_pdu(
        "0019000B917228001011F100003170013193008017D474BB3CA787DB70903DCC4E93D3F43C885E9ED301"
    )
    assert isinstance(absolute, Submit)
    assert absolute.text == "Timestamp validity test"
    assert absolute.validity_minutes is None


def test_8bit_data_is_undisplayable_not_garbage() -> None:
    pdu = decode_pdu("0591721891F101000B917228214365F700040C48656C6C6F20776F726C6421")
    assert isinstance(pdu, Submit)
    assert pdu.text is None
    assert pdu.undisplayable_reason == "8-bit data"
    assert pdu.user_data == b"Hello world!"


def test_status_report() -> None:
    pdu = decode_pdu("0006D60B911326880736F4111011719551401110117195714000")
    assert isinstance(pdu, StatusReport)
    assert pdu.mr == 214
    assert pdu.recipient.number == "+31628870634"
    assert pdu.scts == datetime(2011, 1, 11, 17, 59, 15, tzinfo=tz(1))
    assert pdu.discharge_time == datetime(2011, 1, 11, 17, 59, 17, tzinfo=tz(1))
    assert (pdu.status, pdu.outcome) == (0, "delivered")


def test_negative_time_zone() -> None:
    # Low nibble: sign bit and tens; high nibble: units. 0x88 -> -08 quarters = -02:00,
    # 0x49 -> -14 quarters = -03:30, 0x8A -> -(2*10+8) quarters = -07:00.
    pdu = decode_pdu("00040B917228214365F7000031308051206188 05D4F29C2E03")
    assert isinstance(pdu, Deliver)
    assert pdu.scts.utcoffset() == timedelta(hours=-2)
    pdu = decode_pdu("00040B917228214365F700003130805120614905D4F29C2E03")
    assert isinstance(pdu, Deliver)
    assert pdu.scts.utcoffset() == timedelta(hours=-3, minutes=-30)
    pdu = decode_pdu("00040B917228214365F700003130805120618A05D4F29C2E03")
    assert isinstance(pdu, Deliver)
    assert pdu.scts.utcoffset() == timedelta(hours=-7)


def test_udh_with_other_elements_before_concat_is_skipped_correctly() -> None:
    # UDH: application port IE (0x05, 4 octets) then a 16-bit concat IE; UCS2 "Hi"
    ud = bytes.fromhex("0C" + "050400000000" + "08040102" + "0302") + "Hi".encode("utf-16-be")
    tpdu = bytes.fromhex("440B917228214365F700083130805120618A") + bytes((len(ud),)) + ud
    pdu = decode_pdu("00" + tpdu.hex())
    assert isinstance(pdu, Deliver)
    assert pdu.concat == Concat(0x0102, 3, 2, 16)
    assert [ie.iei for ie in pdu.udh] == [0x05, 0x08]
    assert pdu.text == "Hi"


def test_concat_with_seq_zero_is_ignored() -> None:
    ud = bytes.fromhex("050003070200") + "Hi".encode("utf-16-be")
    tpdu = bytes.fromhex("440B917228214365F700083130805120618A") + bytes((len(ud),)) + ud
    pdu = decode_pdu(tpdu.hex(), has_smsc=False)
    assert isinstance(pdu, Deliver)
    assert pdu.concat is None
    assert pdu.text == "Hi"


def test_bytes_input_is_raw_octets() -> None:
    raw = bytes.fromhex("0011000B916407281553F80000AA0AE8329BFD4697D9EC37")
    pdu = decode_pdu(raw)
    assert isinstance(pdu, Submit)
    assert pdu.text == "hellohello"


@pytest.mark.parametrize(
    ("hex_pdu", "reason"),
    [
        ("", "empty PDU"),
        ("0", "odd number"),
        ("zz", "not hexadecimal"),
        ("00", "first TPDU octet"),
        ("0003", "reserved"),
        ("0011000B916407281553F80000AA0BE8329BFD4697D9EC37", "needs"),  # UDL one too many
        ("0011000B916407281553F80000AA0AE8329BFD4697D9EC3700", "follow"),
        ("0011000B916407281553F80000AA", "TP-UDL"),
        ("0041010C910661345542F60008A0050003000301306F3044", "exceeds 140"),
        ("00040B917228214365F70000313A805120618A05D4F29C2E03", "not BCD"),
        ("00040B917228214365F70000311380512061 8A05D4F29C2E03", "invalid timestamp"),
        ("0D9172", "SMSC field length"),
        ("00041F917228214365F7", "address length"),
    ],
)
def test_malformed_pdus_raise_pdu_error_with_reason(hex_pdu: str, reason: str) -> None:
    with pytest.raises(PduError, match=reason):
        decode_pdu(hex_pdu)
