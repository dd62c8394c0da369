"""What an SMPP PDU means, and the PDU for a stored part: pure, no I/O, no clock.

Inbound: deliver_sm / data_sm become an `SmppInbound` (text decoded by data_coding, the
concatenation taken from the UDH or the sar_* TLVs, message_payload in place of
short_message), or an `SmppReceipt` when esm_class marks a delivery receipt (the
receipted_message_id TLV, else the `id:... stat:...` text of SMPP 3.4 appendix B).
Outbound: a stored SMS-SUBMIT part becomes the parameters of a submit_sm carrying the same
user data header and user data, so splitting stays the codec's (gateway.sms) alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from gateway.smpp import codec
from gateway.smpp.codec import Pdu
from gateway.sms import Address, Concat, PduError, Submit, decode_pdu, gsm7, udh
from gateway.sms import dcs as gsm_dcs

TON_INTERNATIONAL = 1
DefaultAlphabet = Literal["gsm7", "latin1", "ascii"]
LongMessages = Literal["udh", "sar"]

# SMPP 3.4 5.2.19: data_coding values below 0x10 are SMPP's own; the rest follow TS 23.038.
# (label stored with the part, Python codec)
_SMPP_CODINGS: dict[int, tuple[str, str]] = {
    1: ("ascii", "ascii"), 3: ("latin1", "latin-1"), 6: ("iso88595", "iso8859_5"),
    7: ("iso88598", "iso8859_8"),
}
_BINARY_CODINGS = frozenset({0x02, 0x04})
DATA_CODING: dict[str, int] = {"gsm7": 0x00, "ucs2": 0x08, "8bit": 0x04}

ReceiptOutcome = Literal["delivered", "failed", "expired", "pending"]
# Receipt `stat:` words (appendix B) and message_state values (5.2.28).
_STAT_OUTCOME: dict[str, ReceiptOutcome] = {
    "DELIVRD": "delivered", "EXPIRED": "expired", "DELETED": "failed", "UNDELIV": "failed",
    "REJECTD": "failed", "UNKNOWN": "failed", "ACCEPTD": "pending", "ENROUTE": "pending",
}
_STATE_OUTCOME: dict[int, ReceiptOutcome] = {
    1: "pending", 2: "delivered", 3: "expired", 4: "failed", 5: "failed", 6: "pending",
    7: "failed", 8: "failed",
}
_RECEIPT_FIELD = re.compile(r"(id|stat|err):\s*([^\s]+)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class SmppInbound:
    """A customer's message (or one part of it) as the SMSC delivered it."""

    raw: str  # the PDU body (no header, so no sequence number) in hex: what the SMSC sent
    sender: str  # '+' and digits for an international number, else as given
    recipient: str  # the line's number or short code it was sent to
    encoding: str | None
    text: str | None
    user_data: bytes  # without the UDH; UTF-16-BE for ucs2, one septet per octet for gsm7
    concat: Concat | None
    placeholder_reason: str | None
    received_at: datetime | None = None  # SMPP carries no timestamp: when the ESME got it
    sender_ton: int | None = None  # source_addr_ton and _npi, as the SMSC gave them
    sender_npi: int | None = None


@dataclass(frozen=True, slots=True)
class SmppReceipt:
    """A delivery receipt for a part we submitted, by the message id the SMSC gave it."""

    message_id: str
    outcome: ReceiptOutcome
    stat: str
    error: str | None
    recipient: str  # the handset the part went to (the receipt's source_addr)


def address_text(pdu: Pdu, field: str, ton_field: str) -> str:
    value = pdu.text_param(field).strip()
    if pdu.get(ton_field) == TON_INTERNATIONAL and value.isdigit():
        return "+" + value
    return value


def _concat_from_sar(pdu: Pdu) -> Concat | None:
    ref, total, seq = (pdu.get(codec.SAR_MSG_REF_NUM), pdu.get(codec.SAR_TOTAL_SEGMENTS),
                       pdu.get(codec.SAR_SEGMENT_SEQNUM))
    if not all(isinstance(v, int) for v in (ref, total, seq)):
        return None
    if not 1 <= seq <= total:
        return None
    return Concat(ref, total, seq, 16)


def _decode_text(coding: int, body: bytes, default: DefaultAlphabet) -> tuple[str, str | None,
                                                                            str | None, bytes]:
    """(encoding, text, placeholder reason, user data as stored) for a body without UDH."""
    if coding == 0x00:
        if default == "gsm7":
            return "gsm7", gsm7.decode(bytes(b & 0x7F for b in body)), None, body
        return default, body.decode(default.replace("latin1", "latin-1"), "replace"), None, body
    if coding == 0x08:
        text = body.decode("utf-16-be", "replace") if len(body) % 2 == 0 else None
        return "ucs2", text, None, body
    if coding in _SMPP_CODINGS:
        label, codec_name = _SMPP_CODINGS[coding]
        return label, body.decode(codec_name, "replace"), None, body
    if coding in _BINARY_CODINGS or coding < 0x10:
        return "8bit", None, f"data_coding {coding:#04x} is not text", body
    encoding = gsm_dcs.decode(coding).encoding
    if encoding == "gsm7":
        return "gsm7", gsm7.decode(bytes(b & 0x7F for b in body)), None, body
    if encoding == "ucs2":
        text = body.decode("utf-16-be", "replace") if len(body) % 2 == 0 else None
        return "ucs2", text, None, body
    return "8bit", None, "8-bit data", body


def parse_receipt_text(text: str) -> dict[str, str]:
    return {key.lower(): value for key, value in _RECEIPT_FIELD.findall(text)}


def is_receipt(pdu: Pdu) -> bool:
    esm = pdu.get("esm_class", 0) or 0
    return bool(esm & codec.ESM_TYPE_MASK) and (esm & codec.ESM_TYPE_MASK) in (0x04, 0x20)


def receipt_of(pdu: Pdu) -> SmppReceipt | None:
    """The receipt a deliver_sm / data_sm carries; None when it names no message."""
    body = pdu.get(codec.MESSAGE_PAYLOAD) or pdu.get("short_message") or b""
    fields = parse_receipt_text(body.decode("latin-1"))
    message_id = pdu.text_param(codec.RECEIPTED_MESSAGE_ID).strip() or fields.get("id", "")
    if not message_id:
        return None
    stat = fields.get("stat", "").upper()
    state = pdu.get(codec.MESSAGE_STATE)
    outcome: ReceiptOutcome
    if isinstance(state, int) and state in _STATE_OUTCOME:
        outcome = _STATE_OUTCOME[state]
    else:
        outcome = _STAT_OUTCOME.get(stat, "pending")
    error = None if outcome in ("delivered", "pending") else (
        f"delivery receipt: {stat or 'state ' + str(state)}"
        + (f" err:{fields['err']}" if "err" in fields else "")
    )
    return SmppReceipt(message_id, outcome, stat, error,
                       address_text(pdu, "source_addr", "source_addr_ton"))


def inbound_of(pdu: Pdu, frame_body: bytes, default: DefaultAlphabet = "gsm7",
               received_at: datetime | None = None) -> SmppInbound:
    """A customer's deliver_sm / data_sm as a message part; never raises: what cannot be read
    becomes a placeholder that is still stored (and so acknowledged)."""
    payload = pdu.get(codec.MESSAGE_PAYLOAD)
    body: bytes = payload if payload else (pdu.get("short_message") or b"")
    coding = int(pdu.get("data_coding", 0) or 0)
    concat: Concat | None = None
    reason: str | None = None
    if (pdu.get("esm_class", 0) or 0) & codec.ESM_UDHI and body:
        header_octets = body[0] + 1
        try:
            if header_octets > len(body):
                raise PduError("user-data header runs past the message")
            concat = udh.concat_of(udh.parse(body[1:header_octets]))
            body = body[header_octets:]
        except PduError as error:
            reason = f"unreadable user-data header: {error.reason}"
    if concat is None:
        concat = _concat_from_sar(pdu)
    encoding, text, placeholder, user_data = _decode_text(coding, body, default)
    if reason is not None:
        text, placeholder = None, reason
    return SmppInbound(
        raw=frame_body.hex().upper(),
        sender=address_text(pdu, "source_addr", "source_addr_ton"),
        recipient=address_text(pdu, "destination_addr", "dest_addr_ton"),
        encoding=encoding, text=text, user_data=user_data, concat=concat,
        placeholder_reason=placeholder, received_at=received_at,
        sender_ton=_int_or_none(pdu.get("source_addr_ton")),
        sender_npi=_int_or_none(pdu.get("source_addr_npi")),
    )


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) else None


def destination_params(destination: Address) -> dict[str, Any]:
    """destination_addr with the type of number and numbering plan the stored part was written
    for: a reply goes to a national number or a short code exactly as the network gave it."""
    number = destination.number
    value = number[1:] if number.startswith("+") else number
    return {"destination_addr": value.encode("latin-1", "replace"),
            "dest_addr_ton": destination.type.ton, "dest_addr_npi": destination.npi}


def source_params(number: str, ton: int, npi: int) -> dict[str, Any]:
    value = number[1:] if number.startswith("+") else number
    return {"source_addr": value.encode("latin-1", "replace"), "source_addr_ton": ton,
            "source_addr_npi": npi}


def submit_of(submit: Submit) -> dict[str, Any]:
    """submit_sm parameters (without source and receipt request) for a decoded SMS-SUBMIT:
    the same UDH and user data, GSM 7-bit as one septet per octet (SMPP's unpacked form)."""
    header = udh.build(submit.udh) if (submit.udhi or submit.udh) else b""
    encoding = submit.dcs.encoding
    return {
        **destination_params(submit.destination),
        "esm_class": codec.ESM_UDHI if header else 0,
        "protocol_id": submit.pid,
        "data_coding": DATA_CODING[encoding],
        "short_message": header + submit.user_data,
    }


def as_sar(params: dict[str, Any], concat: Concat | None) -> dict[str, Any]:
    """The same part with its concatenation in the sar_* TLVs instead of a UDH."""
    body: bytes = params.get("short_message", b"")
    if not params.get("esm_class", 0) & codec.ESM_UDHI or not body:
        return params
    out = {**params, "short_message": body[body[0] + 1:], "esm_class": 0}
    if concat is not None:
        out.update({codec.SAR_MSG_REF_NUM: concat.ref, codec.SAR_TOTAL_SEGMENTS: concat.total,
                    codec.SAR_SEGMENT_SEQNUM: concat.seq})
    return out


def submit_params(pdu_hex: str, long_messages: LongMessages = "udh") -> dict[str, Any]:
    """submit_sm parameters for a stored part; raises PduError for a part that is not a
    readable SMS-SUBMIT (it cannot be sent, on any line)."""
    decoded = decode_pdu(pdu_hex)
    if not isinstance(decoded, Submit):
        raise PduError("the stored part is not an SMS-SUBMIT")
    params = submit_of(decoded)
    return as_sar(params, decoded.concat) if long_messages == "sar" else params
