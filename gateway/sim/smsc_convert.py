"""The simulated SMSC's translations between the radio side (SMS TPDUs of gateway.sms) and the
SMPP side: a handset's SMS-SUBMIT to the short code becomes deliver_sm parameters (concatenated
by UDH, by sar_* TLVs, or as one message_payload), and an ESME's submit_sm becomes the
SMS-SUBMIT the network relays to the handset. Pure functions."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from gateway.smpp import codec
from gateway.smpp.codec import Pdu
from gateway.smpp.messages import (
    DATA_CODING,
    address_text,
    as_sar,
    source_params,
    submit_of,
)
from gateway.sms import Address, AddressType, PduError, Submit, decode_pdu, gsm7, udh
from gateway.sms import address as sms_address

MoConcat = Literal["udh", "sar", "payload"]
_DCS_OF_CODING = {0x00: 0x00, 0x08: 0x08, 0x04: 0x04, 0x02: 0x04}


def deliver_params(
    submit: Submit, sender: Address, short_code: str, mode: MoConcat = "udh"
) -> dict[str, Any]:
    """deliver_sm parameters for one part a handset sent to the short code; the source keeps
    the sender's type of number and numbering plan (a national number, a sender name)."""
    params = submit_of(submit)
    params.update(source_params(sender.number, sender.type.ton, sender.npi))
    params.update({"destination_addr": short_code.encode(), "dest_addr_ton": 0,
                   "dest_addr_npi": 1})
    if mode in ("sar", "payload"):
        params = as_sar(params, submit.concat)
    if mode == "payload":
        params[codec.MESSAGE_PAYLOAD] = params.pop("short_message")
    return params


def receipt_params(
    message_id: str, destination: Address, short_code: str, submitted: datetime, done: datetime,
    stat: str = "DELIVRD",
) -> dict[str, Any]:
    """A deliver_sm delivery receipt (SMPP 3.4 appendix B text and the TLVs)."""
    text = (f"id:{message_id} sub:001 dlvrd:{'001' if stat == 'DELIVRD' else '000'} "
            f"submit date:{submitted:%y%m%d%H%M} done date:{done:%y%m%d%H%M} "
            f"stat:{stat} err:000 text:")
    state = {"DELIVRD": 2, "EXPIRED": 3, "UNDELIV": 5, "REJECTD": 8}.get(stat, 7)
    return {
        **source_params(destination.number, destination.type.ton, destination.npi),
        "destination_addr": short_code.encode(), "esm_class": codec.ESM_DELIVERY_RECEIPT,
        "short_message": text.encode("ascii"), codec.RECEIPTED_MESSAGE_ID: message_id.encode(),
        codec.MESSAGE_STATE: state,
    }


def submit_from_pdu(pdu: Pdu) -> Submit:
    """The SMS-SUBMIT a handset receives for an ESME's submit_sm; PduError if it cannot be."""
    # The handset is found by its number; the SMS-SUBMIT keeps the type of number and numbering
    # plan the ESME gave, so a test sees whether a reply went out as the sender's address was.
    number = address_text(pdu, "destination_addr", "dest_addr_ton")
    ton, npi = pdu.get("dest_addr_ton"), pdu.get("dest_addr_npi")
    destination: str | Address = number
    if isinstance(ton, int) and isinstance(npi, int):
        destination = Address(number, AddressType.from_ton(ton), npi)
    payload = pdu.get(codec.MESSAGE_PAYLOAD)
    body: bytes = payload if payload else (pdu.get("short_message") or b"")
    coding = int(pdu.get("data_coding", 0) or 0)
    dcs = _DCS_OF_CODING.get(coding)
    if dcs is None:
        raise PduError(f"data_coding {coding:#04x} is not simulated")
    esm = int(pdu.get("esm_class", 0) or 0)
    header = b""
    if esm & codec.ESM_UDHI:
        if not body or body[0] + 1 > len(body):
            raise PduError("user-data header runs past the message")
        header, body = body[: body[0] + 1], body[body[0] + 1:]
    elif pdu.get(codec.SAR_TOTAL_SEGMENTS, 1) > 1:  # the handset gets it as a UDH
        ref = pdu.get(codec.SAR_MSG_REF_NUM, 0) & 0xFFFF
        header = udh.concat_header(ref, pdu.get(codec.SAR_TOTAL_SEGMENTS),
                                   pdu.get(codec.SAR_SEGMENT_SEQNUM, 1), 8 if ref < 256 else 16)
    first = 0x01 | (0x40 if header else 0) | (0x20 if pdu.get("registered_delivery") else 0)
    if dcs == DATA_CODING["gsm7"]:
        header_septets = (len(header) * 8 + 6) // 7
        fill = header_septets * 7 - len(header) * 8
        udl = header_septets + len(body)
        ud = header + gsm7.pack(bytes(b & 0x7F for b in body), fill)
    else:
        udl, ud = len(header) + len(body), header + body
    if udl > (160 if dcs == 0 else 140):
        raise PduError(f"user data of {udl} units does not fit one SMS")
    tpdu = (bytes((first, 0)) + sms_address.encode_number(destination)
            + bytes((int(pdu.get("protocol_id", 0) or 0), dcs, udl)) + ud)
    decoded = decode_pdu("00" + tpdu.hex())
    if not isinstance(decoded, Submit):
        raise PduError("not an SMS-SUBMIT")
    return decoded
