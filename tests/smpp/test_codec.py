"""The PDU layer and what PDUs mean: framing, hostile frames answered, inbound text by
data_coding, concatenation by UDH and SAR, receipts, and submit_sm for a stored part."""

from __future__ import annotations

import contextlib
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.smpp import codec
from gateway.smpp.codec import Pdu, SmppDecodeError, SmppFramingError
from gateway.smpp.messages import inbound_of, is_receipt, receipt_of, submit_params
from gateway.sms import Concat, PduError, decode_pdu, encode_submit


def _roundtrip(pdu: Pdu) -> Pdu:
    return codec.decode(codec.encode(pdu))


def test_every_pdu_the_product_uses_survives_encode_and_decode() -> None:
    for pdu in [
        Pdu("bind_transceiver", 1, params={"system_id": b"acme", "password": b"pw",
                                           "system_type": b"", "interface_version": 0x34}),
        Pdu("bind_transceiver_resp", 1, params={"system_id": b"smsc"}),
        Pdu("submit_sm", 2, params={"source_addr": b"12345", "destination_addr": b"15551234567",
                                    "dest_addr_ton": 1, "dest_addr_npi": 1, "esm_class": 0x40,
                                    "data_coding": 8, "registered_delivery": 1,
                                    "short_message": b"\x05\x00\x03\x01\x02\x01\x00A"}),
        Pdu("submit_sm_resp", 2, params={"message_id": b"ABC123"}),
        Pdu("deliver_sm", 3, params={"source_addr": b"1555", "short_message": b"hi",
                                     "sar_msg_ref_num": 7, "sar_total_segments": 2,
                                     "sar_segment_seqnum": 1}),
        Pdu("deliver_sm_resp", 3),
        Pdu("data_sm", 4, params={"source_addr": b"1", "destination_addr": b"2",
                                  "message_payload": b"x" * 300}),
        Pdu("enquire_link", 5), Pdu("enquire_link_resp", 5), Pdu("unbind", 6),
        Pdu("unbind_resp", 6), Pdu("generic_nack", 7, codec.ESME_RINVCMDID),
    ]:
        decoded = _roundtrip(pdu)
        assert (decoded.command, decoded.sequence, decoded.status) == (
            pdu.command, pdu.sequence, pdu.status)
        for key, value in pdu.params.items():
            assert decoded.params[key] == value, key


def test_error_responses_carry_the_exact_status_vendor_codes_included() -> None:
    for status in (codec.ESME_RTHROTTLED, codec.ESME_RMSGQFUL, 0x401, 0x0B):
        assert _roundtrip(Pdu("submit_sm_resp", 9, status)).status == status


def test_unknown_command_and_bad_body_raise_with_the_header_to_answer_by() -> None:
    with pytest.raises(SmppDecodeError) as caught:
        codec.decode(struct.pack(">IIII", 16, 0x00000999, 0, 41))
    assert (caught.value.sequence, caught.value.status) == (41, codec.ESME_RINVCMDID)
    frame = codec.encode(Pdu("deliver_sm", 42, params={"short_message": b"hello"}))
    truncated = struct.pack(">I", len(frame) - 3) + frame[4:-3]
    with pytest.raises(SmppDecodeError) as caught:
        codec.decode(truncated)
    assert caught.value.sequence == 42
    with pytest.raises(SmppFramingError):
        codec.check_length(10)


@given(st.binary(min_size=16, max_size=300))
def test_any_bytes_decode_or_raise_a_decode_error(data: bytes) -> None:
    frame = struct.pack(">I", len(data)) + data[4:]
    with contextlib.suppress(SmppDecodeError):
        codec.decode(frame)


def _deliver(**params: object) -> Pdu:
    return _roundtrip(Pdu("deliver_sm", 1, params={"source_addr": b"15557770001",
                                                   "source_addr_ton": 1,
                                                   "destination_addr": b"12345", **params}))


@pytest.mark.parametrize(("coding", "body", "encoding", "text"), [
    (0x00, bytes([0x48, 0x69, 0x00, 0x1B, 0x65]), "gsm7", "Hi@€"),
    (0x01, b"plain", "ascii", "plain"),
    (0x03, "café".encode("latin-1"), "latin1", "café"),
    (0x08, "👋 Привет".encode("utf-16-be"), "ucs2", "👋 Привет"),
    (0xF0, b"Hi", "gsm7", "Hi"),
    (0x04, b"\x00\xff", "8bit", None),
])
def test_inbound_text_follows_data_coding(coding: int, body: bytes, encoding: str,
                                          text: str | None) -> None:
    pdu = _deliver(data_coding=coding, short_message=body)
    inbound = inbound_of(pdu, pdu.body)
    assert (inbound.encoding, inbound.text) == (encoding, text)
    assert inbound.sender == "+15557770001"
    assert inbound.recipient == "12345"


def test_concatenation_by_udh_by_sar_and_in_message_payload() -> None:
    udh = _deliver(esm_class=0x40, short_message=b"\x05\x00\x03\x2a\x03\x02abc")
    assert inbound_of(udh, udh.body).concat == Concat(0x2A, 3, 2, 8)
    assert inbound_of(udh, udh.body).text == "abc"
    sar = _deliver(short_message=b"abc", sar_msg_ref_num=300, sar_total_segments=2,
                   sar_segment_seqnum=2)
    assert inbound_of(sar, sar.body).concat == Concat(300, 2, 2, 16)
    payload = _deliver(message_payload=b"x" * 400)
    assert inbound_of(payload, payload.body).text == "x" * 400


def test_a_broken_udh_is_stored_as_a_placeholder_not_dropped() -> None:
    pdu = _deliver(esm_class=0x40, short_message=b"\x09\x00\x03")
    inbound = inbound_of(pdu, pdu.body)
    assert inbound.text is None
    assert inbound.placeholder_reason is not None


def test_receipts_by_tlv_and_by_text() -> None:
    by_tlv = _deliver(esm_class=0x04, receipted_message_id=b"00AB", message_state=5,
                      short_message=b"id:00AB stat:UNDELIV err:001")
    assert is_receipt(by_tlv)
    receipt = receipt_of(by_tlv)
    assert receipt is not None
    assert (receipt.message_id, receipt.outcome) == ("00AB", "failed")
    by_text = _deliver(esm_class=0x04, short_message=(
        b"id:77 sub:001 dlvrd:001 submit date:2612041200 done date:2612041201 stat:DELIVRD"
        b" err:000 text:hello"))
    receipt = receipt_of(by_text)
    assert receipt is not None
    assert (receipt.message_id, receipt.outcome, receipt.error) == ("77", "delivered", None)
    assert not is_receipt(_deliver(short_message=b"id:1 stat:DELIVRD"))


def test_submit_sm_carries_the_stored_parts_udh_and_user_data() -> None:
    encoded = encode_submit("é" * 80 + "👋", "+15557770001", ref=9)
    first = submit_params(encoded.parts[0].pdu)
    assert first["destination_addr"] == b"15557770001"
    assert first["dest_addr_ton"] == 1
    assert first["data_coding"] == 0x08
    assert first["esm_class"] == 0x40
    assert first["short_message"][:6] == b"\x05\x00\x03\x09\x02\x01"
    gsm = submit_params(encode_submit("Hi {there}", "12345").parts[0].pdu)
    assert gsm["data_coding"] == 0x00
    assert gsm["short_message"] == bytes([0x48, 0x69, 0x20, 0x1B, 0x28]) + b"there" + bytes(
        [0x1B, 0x29])
    with pytest.raises(PduError):
        submit_params("00")
    assert decode_pdu(encoded.parts[1].pdu)


def test_reserved_values_in_a_customers_message_do_not_make_it_undeliverable() -> None:
    pdu = _deliver(priority_flag=7, source_addr_npi=2, esm_class=0x0C, registered_delivery=0x23,
                   data_coding=0x0B, short_message=b"odd but mine")
    assert (pdu.get("priority_flag"), pdu.get("source_addr_npi"), pdu.get("esm_class")) == (
        7, 2, 0x0C)
    inbound = inbound_of(pdu, pdu.body)
    assert inbound.sender == "+15557770001"
    assert inbound.placeholder_reason == "data_coding 0x0b is not text"
