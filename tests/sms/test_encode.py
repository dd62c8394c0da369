"""Encoding SUBMIT, DELIVER and STATUS-REPORT PDUs, and splitting text into parts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from gateway.sms import (
    AddressType,
    Concat,
    Deliver,
    MessageTooLongError,
    PduError,
    StatusReport,
    Submit,
    decode_pdu,
    encode_deliver,
    encode_status_report,
    encode_submit,
    reassemble,
    relay_submit_as_deliver,
)

WHEN = datetime(2024, 5, 1, 12, 30, 45, tzinfo=timezone(timedelta(hours=3)))


def submits(hex_pdus: list[str]) -> list[Submit]:
    out = []
    for h in hex_pdus:
        pdu = decode_pdu(h)
        assert isinstance(pdu, Submit)
        out.append(pdu)
    return out


def test_single_gsm7_submit_matches_the_published_encoding() -> None:
    message = encode_submit("hellohello", "+46708251358", validity_minutes=4 * 24 * 60)
    assert message.encoding == "gsm7"
    (part,) = message.parts
    assert part.pdu == "0011000B916407281553F80000AA0AE8329BFD4697D9EC37"
    assert part.tpdu_length == len(part.pdu) // 2 - 1
    assert part.concat is None


def test_destination_forms() -> None:
    (intl,) = submits([encode_submit("x", "+15551234567").parts[0].pdu])
    assert intl.destination.number == "+15551234567"
    assert intl.destination.type is AddressType.INTERNATIONAL
    assert encode_submit("x", "+15551234567").parts[0].pdu[6:10] == "0B91"
    national = encode_submit("x", "0151234567").parts[0].pdu
    assert national[6:10] == "0A81"
    (short,) = submits([encode_submit("x", "12345").parts[0].pdu])
    assert short.destination.number == "12345"
    assert short.destination.type is AddressType.UNKNOWN


@pytest.mark.parametrize("bad", ["", "+", "abc", "+1555x", "1" * 21, "++1"])
def test_invalid_destination_raises(bad: str) -> None:
    with pytest.raises(PduError, match="invalid phone number"):
        encode_submit("x", bad)


def test_status_report_request_only_when_asked() -> None:
    (plain,) = submits([encode_submit("x", "+15551234567").parts[0].pdu])
    (asked,) = submits([encode_submit("x", "+15551234567", status_report=True).parts[0].pdu])
    assert not plain.status_report_request
    assert asked.status_report_request


@pytest.mark.parametrize(
    ("minutes", "octet", "decoded"),
    [
        (5, 0x00, 5),
        (7, 0x01, 10),
        (12 * 60, 143, 720),
        (13 * 60, 145, 780),
        (24 * 60, 167, 1440),
        (2 * 24 * 60, 168, 2880),
        (30 * 24 * 60, 196, 30 * 1440),
        (5 * 7 * 24 * 60, 197, 5 * 7 * 1440),
        (10**9, 255, 63 * 7 * 1440),
    ],
)
def test_relative_validity(minutes: int, octet: int, decoded: int) -> None:
    part = encode_submit("x", "123", validity_minutes=minutes).parts[0]
    assert int(part.pdu[18:20], 16) == octet  # after SMSC, first octet, MR, DA (4), PID, DCS
    (submit,) = submits([part.pdu])
    assert submit.validity_minutes == decoded


def test_gsm7_split_points_for_8_and_16_bit_references() -> None:
    text = "a" * 306
    eight = encode_submit(text, "123", ref=7)
    assert [len(p.text) for p in eight.parts] == [153, 153]
    sixteen = encode_submit(text + "b", "123", ref=0x1234, ref_bits=16)
    assert [len(p.text) for p in sixteen.parts] == [152, 152, 3]
    assert submits([sixteen.parts[0].pdu])[0].concat == Concat(0x1234, 3, 1, 16)
    assert encode_submit("a" * 160, "123").parts[0].concat is None
    assert len(encode_submit("a" * 161, "123").parts) == 2


def test_ucs2_split_points() -> None:
    assert len(encode_submit("я" * 70, "123").parts) == 1
    assert [len(p.text) for p in encode_submit("я" * 134, "123").parts] == [67, 67]
    sixteen = encode_submit("я" * 133, "123", ref_bits=16)
    assert [len(p.text) for p in sixteen.parts] == [66, 66, 1]


def test_escape_pair_is_never_split() -> None:
    text = "a" * 152 + "€" + "b" * 10  # the euro needs two septets and would straddle 153
    message = encode_submit(text, "123")
    assert [p.text for p in message.parts] == ["a" * 152, "€" + "b" * 10]
    decoded = submits([p.pdu for p in message.parts])
    assert decoded[0].tp_udl == 7 + 152
    assert reassemble(decoded) == text


def test_surrogate_pair_is_never_split() -> None:
    text = "я" * 66 + "😀" + "я" * 5
    message = encode_submit(text, "123")
    assert [p.text for p in message.parts] == ["я" * 66, "😀" + "я" * 5]
    assert reassemble(submits([p.pdu for p in message.parts])) == text


def test_part_ending_in_at_sign_keeps_it() -> None:
    text = "x" * 152 + "@" + "y" * 10
    message = encode_submit(text, "123")
    assert message.parts[0].text.endswith("@")
    decoded = submits([p.pdu for p in message.parts])
    assert decoded[0].text == "x" * 152 + "@"
    assert reassemble(decoded) == text


def test_16_bit_reference_gsm7_keeps_first_character() -> None:
    message = encode_submit("Zebra " * 40, "123", ref=513, ref_bits=16)
    decoded = submits([p.pdu for p in message.parts])
    assert decoded[0].text is not None
    assert decoded[0].text.startswith("Zebra")
    assert reassemble(decoded) == "Zebra " * 40


def test_too_many_parts_names_length_and_limit() -> None:
    with pytest.raises(MessageTooLongError, match=r"1531 characters needs 11 gsm7 parts.*10"):
        encode_submit("a" * 1531, "123")
    assert len(encode_submit("a" * 1530, "123").parts) == 10
    assert len(encode_submit("a" * 1531, "123", max_parts=11).parts) == 11


def test_forced_gsm7_with_unencodable_text_raises() -> None:
    with pytest.raises(PduError, match="not in the GSM 7-bit alphabet"):
        encode_submit("Привет", "123", encoding="gsm7")
    assert encode_submit("hello", "123", encoding="ucs2").encoding == "ucs2"


def test_reference_must_fit() -> None:
    with pytest.raises(PduError, match="does not fit 8 bits"):
        encode_submit("x", "123", ref=256)
    assert encode_submit("a" * 200, "123", ref=65535, ref_bits=16).parts[0].concat == Concat(
        65535, 2, 1, 16
    )


def test_message_reference_advances_per_part() -> None:
    message = encode_submit("a" * 400, "123", mr=254)
    assert [s.mr for s in submits([p.pdu for p in message.parts])] == [254, 255, 0]


def test_deliver_with_numeric_and_alphanumeric_originators() -> None:
    numeric = encode_deliver("Hi there", "+15551234567", WHEN, smsc="+15550000000")
    (part,) = numeric.parts
    assert part.pdu.startswith("07915155000000F0")
    pdu = decode_pdu(part.pdu)
    assert isinstance(pdu, Deliver)
    assert pdu.smsc is not None
    assert pdu.smsc.number == "+15550000000"
    assert (pdu.originator.number, pdu.text, pdu.scts) == ("+15551234567", "Hi there", WHEN)
    assert part.tpdu_length == len(part.pdu) // 2 - 8

    alpha = encode_deliver("Code 1234", "MyBank{}", WHEN)
    assert alpha.parts[0].pdu.startswith("000412D0")  # 10 septets = 70 bits = 18 semi-octets
    pdu = decode_pdu(alpha.parts[0].pdu)
    assert isinstance(pdu, Deliver)
    assert pdu.originator.number == "MyBank{}"
    assert pdu.originator.type is AddressType.ALPHANUMERIC


def test_deliver_parts_reassemble_in_any_order() -> None:
    text = "Привет, мир! 😀 " * 12
    message = encode_deliver(text, "+15551234567", WHEN, ref=99)
    decoded = [decode_pdu(p.pdu) for p in reversed(message.parts)]
    assert all(isinstance(d, Deliver) for d in decoded)
    assert reassemble(decoded + decoded[:1]) == text  # type: ignore[arg-type]


def test_relay_keeps_user_data_bit_for_bit() -> None:
    # A phone that split an emoji between parts: each UCS2 part holds half a surrogate pair.
    emoji = "😀".encode("utf-16-be")
    halves = []
    for seq, payload in ((1, b"\x00a" + emoji[:2]), (2, emoji[2:] + b"\x00b")):
        ud = bytes((5, 0, 3, 42, 2, seq)) + payload
        tpdu = bytes.fromhex("41000B915155214365F70008") + bytes((len(ud),)) + ud
        submit = decode_pdu("00" + tpdu.hex())
        assert isinstance(submit, Submit)
        halves.append(submit)
    delivers = []
    for submit in halves:
        hex_pdu = relay_submit_as_deliver(submit, "+15550001111", WHEN, smsc="+15550000000")
        deliver = decode_pdu(hex_pdu)
        assert isinstance(deliver, Deliver)
        assert (deliver.tp_udl, deliver.tp_ud) == (submit.tp_udl, submit.tp_ud)
        assert deliver.dcs == submit.dcs
        delivers.append(deliver)
    assert delivers[0].text == "a\ufffd"  # on its own, half a pair cannot be shown
    assert reassemble(reversed(delivers)) == "a😀b"


def test_relay_of_encoded_gsm7_multipart() -> None:
    text = "The quick brown fox [jumps] over the lazy dog. " * 5
    for ref_bits in (8, 16):
        parts = encode_submit(text, "+15551234567", ref=5, ref_bits=ref_bits).parts
        relayed = [
            decode_pdu(relay_submit_as_deliver(s, "Shop", WHEN))
            for s in submits([p.pdu for p in parts])
        ]
        assert reassemble(relayed) == text  # type: ignore[arg-type]


def test_status_report_round_trip() -> None:
    discharge = WHEN + timedelta(seconds=5)
    for status, outcome in ((0x00, "delivered"), (0x30, "pending"), (0x41, "failed")):
        hex_pdu = encode_status_report(
            mr=17,
            recipient="+15551234567",
            scts=WHEN,
            discharge_time=discharge,
            status=status,
            smsc="+15550000000",
        )
        report = decode_pdu(hex_pdu)
        assert isinstance(report, StatusReport)
        assert (report.mr, report.recipient.number, report.status, report.outcome) == (
            17,
            "+15551234567",
            status,
            outcome,
        )
        assert (report.scts, report.discharge_time) == (WHEN, discharge)


def test_timestamp_encoding_rules() -> None:
    with pytest.raises(PduError, match="timezone-aware"):
        encode_deliver("x", "123", datetime(2024, 1, 1))
    odd = datetime(2024, 1, 1, 12, 0, tzinfo=timezone(timedelta(minutes=7)))
    pdu = decode_pdu(encode_deliver("x", "123", odd).parts[0].pdu)
    assert isinstance(pdu, Deliver)
    assert pdu.scts == odd
    assert pdu.scts.utcoffset() == timedelta(0)
    assert pdu.scts.tzinfo is not None
    utc = decode_pdu(encode_deliver("x", "123", datetime(2030, 2, 3, tzinfo=UTC)).parts[0].pdu)
    assert isinstance(utc, Deliver)
    assert utc.scts.year == 2030
