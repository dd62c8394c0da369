"""The composer's counter and reassembly of parts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway.sms import (
    Deliver,
    PduError,
    count_segments,
    decode_pdu,
    encode_deliver,
    gsm7,
    missing_parts,
    missing_seqs,
    reassemble,
)

WHEN = datetime(2024, 3, 4, 5, 6, 7, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "encoding", "parts", "used", "left"),
    [
        ("", "gsm7", 1, 0, 160),
        ("Hello", "gsm7", 1, 5, 155),
        ("a" * 160, "gsm7", 1, 160, 0),
        ("a" * 161, "gsm7", 2, 8, 145),
        ("€" * 80, "gsm7", 1, 160, 0),
        ("€" * 81, "gsm7", 2, 10, 143),  # 76 euros (152 septets) fit a part, the 77th does not
        ("я" * 70, "ucs2", 1, 70, 0),
        ("я" * 71, "ucs2", 2, 4, 63),
        ("😀" * 35, "ucs2", 1, 70, 0),
        ("😀" * 36, "ucs2", 2, 6, 61),  # 33 emoji (66 units) per part, the 34th would split
    ],
)
def test_counts(text: str, encoding: str, parts: int, used: int, left: int) -> None:
    count = count_segments(text)
    assert (count.encoding, count.parts, count.units_used, count.units_left) == (
        encoding,
        parts,
        used,
        left,
    )
    assert count.characters == len(text)


def test_counter_names_characters_that_force_ucs2() -> None:
    count = count_segments("Hello Zoë, café ✓ ✓ 😀")
    assert count.encoding == "ucs2"
    assert count.ucs2_characters == ("ë", "✓", "😀")


def test_counter_flags_too_long() -> None:
    assert count_segments("a" * 1530, max_parts=10).too_long is False
    over = count_segments("a" * 1531, max_parts=10)
    assert (over.parts, over.too_long, over.max_parts) == (11, True, 10)


def test_counter_with_16_bit_reference() -> None:
    assert count_segments("a" * 305, ref_bits=16).parts == 3


def _parts(text: str, ref: int = 1) -> list[Deliver]:
    out = []
    for p in encode_deliver(text, "+15551234567", WHEN, ref=ref).parts:
        pdu = decode_pdu(p.pdu)
        assert isinstance(pdu, Deliver)
        out.append(pdu)
    return out


def test_reassembly_drops_duplicates_and_reorders() -> None:
    text = "Part one. " * 40
    parts = _parts(text)
    assert len(parts) == 3
    assert reassemble([parts[2], parts[0], parts[2], parts[1], parts[0]]) == text


def test_missing_parts_are_reported() -> None:
    parts = _parts("x" * 500)
    assert missing_parts([parts[0], parts[3]]) == (2, 3)
    assert missing_seqs([1, 4], 4) == (2, 3)
    with pytest.raises(PduError, match="parts 2, 3 of 4 are missing"):
        reassemble([parts[0], parts[3]])
    partial = reassemble([parts[0], parts[3]], allow_missing=True)
    assert partial == "x" * 153 + "x" * (500 - 3 * 153)


def test_parts_of_different_messages_are_refused() -> None:
    with pytest.raises(PduError, match="different"):
        reassemble(_parts("a" * 200, ref=1)[:1] + _parts("a" * 200, ref=2)[1:])


def test_single_part_reassembles_to_its_text() -> None:
    (single,) = _parts("hello")
    assert reassemble([single]) == "hello"
    assert missing_parts([single]) == ()


def test_undisplayable_part_makes_the_message_undisplayable() -> None:
    ud = bytes.fromhex("05000309020201FF")
    hex_pdu = f"00440B917228214365F700043130805120618A{len(ud):02X}{ud.hex()}"
    binary = decode_pdu(hex_pdu)
    assert isinstance(binary, Deliver)
    assert binary.text is None
    ud1 = bytes.fromhex("050003090201") + "Hi".encode("utf-16-be")
    first = decode_pdu(f"00440B917228214365F700083130805120618A{len(ud1):02X}{ud1.hex()}")
    assert isinstance(first, Deliver)
    assert reassemble([first, binary]) is None


def test_escape_pair_split_by_another_phone_is_rejoined() -> None:
    # A sender that cut between the escape and its character: part 1 ends in 0x1B.
    def part(seq: int, septets: bytes) -> Deliver:
        header = bytes((5, 0, 3, 7, 2, seq))
        ud = header + gsm7.pack(septets, 1)
        udl = 7 + len(septets)
        pdu = decode_pdu(f"00440B917228214365F700003130805120618A{udl:02X}{ud.hex()}")
        assert isinstance(pdu, Deliver)
        return pdu

    one = part(1, gsm7.encode("Price: ") + b"\x1b")
    two = part(2, b"\x65" + gsm7.encode("5"))
    assert one.text == "Price:  "  # alone, a dangling escape shows as a space
    assert reassemble([two, one]) == "Price: €5"
