"""Properties that hold for any text and any input octets."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.sms import (
    Deliver,
    PduError,
    Submit,
    count_segments,
    decode_pdu,
    encode_deliver,
    encode_submit,
    gsm7,
    reassemble,
    relay_submit_as_deliver,
)
from gateway.sms.address import encode_number

GSM7_CHARS = "".join(sorted(set(gsm7.BASIC.values()) | set(gsm7.EXTENSION.values())))
# Text mixing the whole alphabet, extension characters, Cyrillic and emoji.
any_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=400)
gsm7_text = st.text(alphabet=GSM7_CHARS, max_size=700)
mixed_text = st.one_of(
    any_text,
    gsm7_text,
    st.text(alphabet="a€[]{}|~^\\😀я@", max_size=500),
)
ref_bits = st.sampled_from([8, 16])
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _decode_all(hex_pdus: list[str]) -> list[Deliver | Submit]:
    out: list[Deliver | Submit] = []
    for h in hex_pdus:
        pdu = decode_pdu(h)
        assert isinstance(pdu, Deliver | Submit)
        out.append(pdu)
    return out


@FAST
@given(text=mixed_text, bits=ref_bits, ref=st.integers(0, 255))
def test_submit_round_trips_and_respects_limits(text: str, bits: int, ref: int) -> None:
    message = encode_submit(text, "+15551234567", ref=ref, ref_bits=bits, max_parts=255)  # type: ignore[arg-type]
    parts = _decode_all([p.pdu for p in message.parts])
    assert "".join(p.text for p in message.parts) == text
    assert reassemble(reversed(parts)) == text
    counted = count_segments(text, ref_bits=bits)  # type: ignore[arg-type]
    assert counted.parts == len(message.parts)
    assert counted.encoding == message.encoding
    for encoded, decoded in zip(message.parts, parts, strict=True):
        assert len(decoded.tp_ud) <= 140
        assert encoded.tpdu_length == len(encoded.pdu) // 2 - 1
        assert decoded.text == encoded.text or message.encoding == "ucs2"
        # Neither an escape pair nor a surrogate pair is divided: each part decodes alone.
        if message.encoding == "gsm7":
            assert decoded.user_data[-1:] != b"\x1b"
            assert gsm7.decode(decoded.user_data) == encoded.text
        else:
            assert decoded.text == encoded.text
        if len(parts) > 1:
            assert decoded.concat is not None
            assert decoded.concat.total == len(parts)
            assert decoded.concat.ref_bits == bits


@FAST
@given(text=mixed_text, bits=ref_bits)
def test_deliver_and_relay_round_trip(text: str, bits: int) -> None:
    when = datetime(2024, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-4)))
    message = encode_deliver(text, "Alerts", when, ref=3, ref_bits=bits)  # type: ignore[arg-type]
    parts = _decode_all([p.pdu for p in message.parts])
    assert reassemble(parts) == text
    assert all(isinstance(p, Deliver) and p.scts == when for p in parts)
    submits = _decode_all([p.pdu for p in encode_submit(text, "123", max_parts=255).parts])
    relayed = [
        decode_pdu(relay_submit_as_deliver(s, "+15550001111", when))  # type: ignore[arg-type]
        for s in submits
    ]
    assert reassemble(relayed) == text  # type: ignore[arg-type]


@settings(max_examples=400, deadline=None)
@given(data=st.binary(max_size=200), has_smsc=st.booleans())
def test_decode_raises_only_pdu_error_on_random_octets(data: bytes, has_smsc: bool) -> None:
    with contextlib.suppress(PduError):
        decode_pdu(data, has_smsc=has_smsc)


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=120))
def test_decode_raises_only_pdu_error_on_random_strings(text: str) -> None:
    with contextlib.suppress(PduError):
        decode_pdu(text)


@settings(max_examples=400, deadline=None)
@given(
    first=st.sampled_from([0x00, 0x04, 0x44, 0x01, 0x11, 0x41, 0x51, 0x19, 0x02, 0x06]),
    body=st.binary(max_size=180),
)
def test_decode_raises_only_pdu_error_on_plausible_headers(first: int, body: bytes) -> None:
    # Random tails after a valid first octet and address reach deeper into the decoder.
    with contextlib.suppress(PduError):
        decode_pdu(bytes((0, first, 0)) + encode_number("+15551234567") + body)


@settings(max_examples=200, deadline=None)
@given(
    when=st.datetimes(
        min_value=datetime(1990, 1, 1),
        max_value=datetime(2089, 12, 31),
        timezones=st.sampled_from(
            [UTC] + [timezone(timedelta(minutes=15 * q)) for q in range(-48, 57, 3)]
        ),
    )
)
def test_timestamps_round_trip_with_their_offset(when: datetime) -> None:
    when = when.replace(microsecond=0)
    (part,) = encode_deliver("x", "123", when).parts
    pdu = decode_pdu(part.pdu)
    assert isinstance(pdu, Deliver)
    assert pdu.scts == when
    assert pdu.scts.utcoffset() == when.utcoffset()


_SAMPLES = [
    encode_deliver("Привет 😀 " * 20, "Shop", datetime(2024, 1, 2, tzinfo=UTC), ref=4).parts[0].pdu,
    encode_deliver(
        "hello [world] " * 20,
        "+15551234567",
        datetime(2024, 1, 2, tzinfo=UTC),
        ref=300,
        ref_bits=16,
    )
    .parts[1]
    .pdu,
    encode_submit("x" * 200, "+15551234567", validity_minutes=60, status_report=True).parts[0].pdu,
    "0006D60B911326880736F4111011719551401110117195714000",
]


@settings(max_examples=400, deadline=None)
@given(
    sample=st.sampled_from(_SAMPLES),
    edits=st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255)), max_size=4),
    cut=st.integers(0, 200),
)
def test_decode_raises_only_pdu_error_on_mutated_pdus(
    sample: str, edits: list[tuple[int, int]], cut: int
) -> None:
    data = bytearray.fromhex(sample)
    for index, value in edits:
        if index < len(data):
            data[index] = value
    with contextlib.suppress(PduError):
        decode_pdu(bytes(data[: len(data) - cut % 8]))
