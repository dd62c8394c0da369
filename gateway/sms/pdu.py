"""Decoding any SMS TPDU, and encoding SMS-SUBMIT, SMS-DELIVER and SMS-STATUS-REPORT."""

from __future__ import annotations

import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from gateway.sms import address, dcs, gsm7, split, ucs2, udh
from gateway.sms import scts as _scts
from gateway.sms.model import (
    Address,
    Concat,
    DataCoding,
    Deliver,
    EncodedMessage,
    EncodedPart,
    InformationElement,
    MessageTooLongError,
    PduError,
    ReportOutcome,
    StatusReport,
    Submit,
)

MTI_DELIVER = 0
MTI_SUBMIT = 1
MTI_STATUS_REPORT = 2

_UDHI = 0x40
_SRR = 0x20  # TP-SRR in SUBMIT; TP-SRI in DELIVER at the same bit
_RP = 0x80
_MMS = 0x04  # in DELIVER and STATUS-REPORT: set means no more messages waiting
_VPF_RELATIVE = 0x10
_VPF_MASK = 0x18


# ---------------------------------------------------------------- decoding


def _to_bytes(pdu: str | bytes) -> bytes:
    if isinstance(pdu, str):
        cleaned = "".join(pdu.split())
        if len(cleaned) % 2:
            raise PduError(f"hex PDU has an odd number of digits ({len(cleaned)})")
        try:
            return binascii.unhexlify(cleaned)
        except (binascii.Error, ValueError):
            raise PduError("PDU is not hexadecimal") from None
    if isinstance(pdu, bytes | bytearray | memoryview):
        return bytes(pdu)
    raise PduError(f"PDU must be a hex string or bytes, not {type(pdu).__name__}")


def _octet(data: bytes, pos: int, what: str) -> int:
    if pos >= len(data):
        raise PduError(f"PDU ends before {what}")
    return data[pos]


@dataclass(frozen=True, slots=True)
class _UserData:
    text: str | None
    user_data: bytes
    udh: tuple[InformationElement, ...]
    concat: Concat | None
    undisplayable_reason: str | None
    tp_udl: int
    tp_ud: bytes


def _decode_user_data(data: bytes, pos: int, coding: DataCoding, udhi: bool) -> _UserData:
    udl = _octet(data, pos, "TP-UDL")
    ud = data[pos + 1 :]
    if coding.encoding == "gsm7":
        if udl > 160:
            raise PduError(f"TP-UDL {udl} exceeds 160 septets")
        noctets = (udl * 7 + 7) // 8
    else:
        if udl > split.MAX_USER_DATA_OCTETS:
            raise PduError(f"TP-UDL {udl} exceeds 140 octets")
        noctets = udl
    if len(ud) < noctets:
        raise PduError(f"TP-UD holds {len(ud)} octets, TP-UDL {udl} needs {noctets}")
    if len(ud) > noctets:
        raise PduError(f"{len(ud) - noctets} octets follow the user data")

    ies: tuple[InformationElement, ...] = ()
    header_octets = 0
    if udhi:
        if noctets == 0:
            raise PduError("TP-UDHI is set but the user data is empty")
        header_octets = ud[0] + 1
        if header_octets > noctets:
            raise PduError(f"user-data header of {header_octets} octets exceeds the user data")
        ies = udh.parse(ud[1:header_octets])
    concat = udh.concat_of(ies)

    reason: str | None = None
    text: str | None
    if coding.encoding == "gsm7":
        header_septets = (header_octets * 8 + 6) // 7
        if header_septets > udl:
            raise PduError("user-data header exceeds TP-UDL")
        fill = header_septets * 7 - header_octets * 8
        body = gsm7.unpack(ud[header_octets:], udl - header_septets, fill)
        text = gsm7.decode(body)
    elif coding.encoding == "ucs2":
        body = ud[header_octets:noctets]
        text = ucs2.decode(body)
    else:
        body = ud[header_octets:noctets]
        text = None
        reason = "8-bit data"
    if coding.compressed:
        text, reason = None, "compressed user data"
    national = [
        ie
        for ie in ies
        if ie.iei in (udh.IEI_NATIONAL_SINGLE_SHIFT, udh.IEI_NATIONAL_LOCKING_SHIFT)
        and ie.data != b"\x00"
    ]
    if national and coding.encoding == "gsm7":
        text, reason = None, "national language shift tables are not supported"
    return _UserData(text, body, ies, concat, reason, udl, bytes(ud[:noctets]))


def _decode_deliver(data: bytes, pos: int, smsc: Address | None) -> Deliver:
    first = data[pos]
    originator, pos = address.decode(data, pos + 1)
    pid = _octet(data, pos, "TP-PID")
    coding = dcs.decode(_octet(data, pos + 1, "TP-DCS"))
    timestamp = _scts.decode(data[pos + 2 : pos + 2 + _scts.LENGTH])
    ud = _decode_user_data(data, pos + 2 + _scts.LENGTH, coding, bool(first & _UDHI))
    return Deliver(
        smsc=smsc,
        originator=originator,
        pid=pid,
        dcs=coding,
        scts=timestamp,
        text=ud.text,
        user_data=ud.user_data,
        concat=ud.concat,
        udh=ud.udh,
        more_messages_to_send=not first & _MMS,
        status_report_indication=bool(first & _SRR),
        reply_path=bool(first & _RP),
        undisplayable_reason=ud.undisplayable_reason,
        tp_udl=ud.tp_udl,
        tp_ud=ud.tp_ud,
        udhi=bool(first & _UDHI),
    )


def relative_validity_minutes(vp: int) -> int:
    """TP-VP relative format (TS 23.040 9.2.3.12.1) -> minutes."""
    if vp <= 143:
        return (vp + 1) * 5
    if vp <= 167:
        return 12 * 60 + (vp - 143) * 30
    if vp <= 196:
        return (vp - 166) * 24 * 60
    return (vp - 192) * 7 * 24 * 60


def relative_validity_octet(minutes: int) -> int:
    """Minutes -> the smallest TP-VP (relative) lasting at least that long, 63 weeks at most."""
    if minutes <= 0:
        raise PduError(f"validity period must be positive, not {minutes} minutes")
    if minutes <= 12 * 60:
        return (minutes + 4) // 5 - 1
    if minutes <= 24 * 60:
        return 143 + (minutes - 12 * 60 + 29) // 30
    if minutes <= 30 * 24 * 60:
        return 166 + (minutes + 24 * 60 - 1) // (24 * 60)
    return min(255, 192 + (minutes + 7 * 24 * 60 - 1) // (7 * 24 * 60))


def _decode_submit(data: bytes, pos: int, smsc: Address | None) -> Submit:
    first = data[pos]
    mr = _octet(data, pos + 1, "TP-MR")
    destination, pos = address.decode(data, pos + 2)
    pid = _octet(data, pos, "TP-PID")
    coding = dcs.decode(_octet(data, pos + 1, "TP-DCS"))
    pos += 2
    vpf = (first & _VPF_MASK) >> 3
    validity: int | None = None
    if vpf == 2:
        validity = relative_validity_minutes(_octet(data, pos, "TP-VP"))
        pos += 1
    elif vpf in (1, 3):  # enhanced or absolute: seven octets, not expressed in minutes
        if pos + 7 > len(data):
            raise PduError("PDU ends inside TP-VP")
        pos += 7
    ud = _decode_user_data(data, pos, coding, bool(first & _UDHI))
    return Submit(
        smsc=smsc,
        destination=destination,
        mr=mr,
        pid=pid,
        dcs=coding,
        validity_minutes=validity,
        status_report_request=bool(first & _SRR),
        text=ud.text,
        user_data=ud.user_data,
        concat=ud.concat,
        udh=ud.udh,
        reject_duplicates=bool(first & 0x04),
        undisplayable_reason=ud.undisplayable_reason,
        tp_udl=ud.tp_udl,
        tp_ud=ud.tp_ud,
        reply_path=bool(first & _RP),
        udhi=bool(first & _UDHI),
    )


def report_outcome(status: int) -> ReportOutcome:
    """TP-ST -> outcome, by the ranges of TS 23.040 9.2.3.15.

    0x00-0x1F: the SC delivered the message (0x00-0x02 completed, the rest reserved or
    SC-specific in that range). 0x20-0x3F: temporary error, the SC is still trying.
    0x40-0x7F: permanent error, or temporary error after which the SC stopped trying.
    Bit 7 is reserved and ignored, so 0x80-0xFF map by the same ranges.
    """
    value = status & 0x7F
    if value < 0x20:
        return "delivered"
    if value < 0x40:
        return "pending"
    return "failed"


def _decode_status_report(data: bytes, pos: int, smsc: Address | None) -> StatusReport:
    mr = _octet(data, pos + 1, "TP-MR")
    recipient, pos = address.decode(data, pos + 2)
    timestamp = _scts.decode(data[pos : pos + _scts.LENGTH])
    discharge = _scts.decode(data[pos + _scts.LENGTH : pos + 2 * _scts.LENGTH])
    status = _octet(data, pos + 2 * _scts.LENGTH, "TP-ST")
    # Optional TP-PI/PID/DCS/UD may follow; a report's meaning is complete without them.
    return StatusReport(
        smsc=smsc,
        mr=mr,
        recipient=recipient,
        scts=timestamp,
        discharge_time=discharge,
        status=status,
        outcome=report_outcome(status),
    )


def decode_pdu(pdu: str | bytes, *, has_smsc: bool = True) -> Deliver | Submit | StatusReport:
    """A PDU as AT+CMGR/+CMGL/+CMT/+CDS show it (hex, or raw octets as bytes) -> its meaning.

    MTI 0 is read as SMS-DELIVER, 1 as SMS-SUBMIT, 2 as SMS-STATUS-REPORT. Anything malformed
    raises PduError, and nothing else.
    """
    data = _to_bytes(pdu)
    try:
        smsc: Address | None = None
        pos = 0
        if has_smsc:
            smsc, pos = address.decode_smsc(data)
        mti = _octet(data, pos, "the first TPDU octet") & 0x03
        if mti == MTI_DELIVER:
            return _decode_deliver(data, pos, smsc)
        if mti == MTI_SUBMIT:
            return _decode_submit(data, pos, smsc)
        if mti == MTI_STATUS_REPORT:
            return _decode_status_report(data, pos, smsc)
        raise PduError("TP-MTI 3 is reserved")
    except PduError:
        raise
    except (ValueError, IndexError, KeyError) as exc:  # a codec gap must still be a PduError
        raise PduError(f"malformed PDU: {exc}") from exc


# ---------------------------------------------------------------- encoding


def _user_data(chunk: str, encoding: split.TextEncoding, header: bytes) -> tuple[int, bytes]:
    """(TP-UDL, TP-UD) for a piece of text after an optional whole UDH."""
    if encoding == "gsm7":
        septets = gsm7.encode(chunk)
        header_septets = (len(header) * 8 + 6) // 7
        fill = header_septets * 7 - len(header) * 8
        return header_septets + len(septets), header + gsm7.pack(septets, fill)
    ud = header + ucs2.encode(chunk)
    return len(ud), ud


def _check_ref(ref: int, ref_bits: int) -> None:
    if ref_bits not in (8, 16):
        raise PduError(f"reference size must be 8 or 16 bits, not {ref_bits}")
    if not 0 <= ref < 1 << ref_bits:
        raise PduError(f"concatenation reference {ref} does not fit {ref_bits} bits")


def _pieces(
    text: str,
    encoding: split.EncodingChoice,
    ref: int,
    ref_bits: Literal[8, 16],
    max_parts: int,
) -> tuple[split.Split, list[tuple[str, Concat | None, int, bytes]]]:
    """Split text and give each part (text, concat, TP-UDL, TP-UD)."""
    _check_ref(ref, ref_bits)
    cut = split.split_text(text, encoding, ref_bits)
    total = len(cut.chunks)
    limit = min(max_parts, split.MAX_CONCAT_PARTS)
    if total > limit:
        raise MessageTooLongError(len(text), total, limit, cut.encoding)
    pieces: list[tuple[str, Concat | None, int, bytes]] = []
    for seq, chunk in enumerate(cut.chunks, start=1):
        concat: Concat | None = None
        header = b""
        if total > 1:
            concat = Concat(ref, total, seq, ref_bits)
            header = udh.concat_header(ref, total, seq, ref_bits)
        udl, ud = _user_data(chunk, cut.encoding, header)
        pieces.append((chunk, concat, udl, ud))
    return cut, pieces


def encode_submit(
    text: str,
    to: str | Address,
    *,
    encoding: split.EncodingChoice = "auto",
    mr: int = 0,
    ref: int = 0,
    ref_bits: Literal[8, 16] = 8,
    status_report: bool = False,
    validity_minutes: int | None = None,
    max_parts: int = 10,
) -> EncodedMessage:
    """SMS-SUBMIT parts for AT+CMGS in PDU mode, each after an empty SMSC field ("00").

    Part i (from 0) carries TP-MR (mr + i) % 256; modems usually assign their own.
    """
    destination = address.encode_address(to)
    if not 0 <= mr <= 255:
        raise PduError(f"TP-MR {mr} does not fit one octet")
    vp = b"" if validity_minutes is None else bytes((relative_validity_octet(validity_minutes),))
    cut, pieces = _pieces(text, encoding, ref, ref_bits, max_parts)
    parts: list[EncodedPart] = []
    for i, (chunk, concat, udl, ud) in enumerate(pieces):
        first = MTI_SUBMIT
        if vp:
            first |= _VPF_RELATIVE
        if status_report:
            first |= _SRR
        if concat is not None:
            first |= _UDHI
        tpdu = (
            bytes((first, (mr + i) % 256))
            + destination
            + bytes((0x00, dcs.for_encoding(cut.encoding)))
            + vp
            + bytes((udl,))
            + ud
        )
        parts.append(EncodedPart("00" + tpdu.hex().upper(), len(tpdu), chunk, concat))
    return EncodedMessage(cut.encoding, tuple(parts))


def _deliver_tpdu(
    first: int, originator: bytes, pid: int, dcs_octet: int, when: datetime, udl: int, ud: bytes
) -> bytes:
    return (
        bytes((first,))
        + originator
        + bytes((pid, dcs_octet))
        + _scts.encode(when)
        + bytes((udl,))
        + ud
    )


def encode_deliver(
    text: str,
    originator: str | Address,
    scts: datetime,
    *,
    encoding: split.EncodingChoice = "auto",
    ref: int = 0,
    ref_bits: Literal[8, 16] = 8,
    max_parts: int = 255,
    smsc: str | None = None,
) -> EncodedMessage:
    """SMS-DELIVER parts as the network hands them to a modem; each `pdu` starts with the
    SMSC field, as AT+CMGR shows it, and `tpdu_length` is the <length> AT+CMGR reports."""
    oa = address.encode_originator(originator)
    smsc_field = address.encode_smsc(smsc)
    _scts.encode(scts)  # fail on a bad timestamp before any work
    cut, pieces = _pieces(text, encoding, ref, ref_bits, max_parts)
    parts: list[EncodedPart] = []
    for chunk, concat, udl, ud in pieces:
        first = MTI_DELIVER | _MMS | (_UDHI if concat is not None else 0)
        tpdu = _deliver_tpdu(first, oa, 0x00, dcs.for_encoding(cut.encoding), scts, udl, ud)
        parts.append(EncodedPart((smsc_field + tpdu).hex().upper(), len(tpdu), chunk, concat))
    return EncodedMessage(cut.encoding, tuple(parts))


def relay_submit_as_deliver(
    submit: Submit, originator: str | Address, scts: datetime, *, smsc: str | None = None
) -> str:
    """What an SMSC does with a SUBMIT: a DELIVER (hex, SMSC field first) that carries the
    SUBMIT's PID, DCS, TP-UDL and TP-UD bit for bit, so nothing is re-encoded on the way."""
    first = MTI_DELIVER | _MMS
    if submit.udhi or submit.udh:
        first |= _UDHI
    if submit.status_report_request:
        first |= _SRR  # TP-SRI: a report will go back to the sender
    if submit.reply_path:
        first |= _RP
    tpdu = _deliver_tpdu(
        first,
        address.encode_originator(originator),
        submit.pid,
        submit.dcs.raw,
        scts,
        submit.tp_udl,
        submit.tp_ud,
    )
    return (address.encode_smsc(smsc) + tpdu).hex().upper()


def encode_status_report(
    *,
    mr: int,
    recipient: str | Address,
    scts: datetime,
    discharge_time: datetime,
    status: int,
    smsc: str | None = None,
) -> str:
    """SMS-STATUS-REPORT (hex, SMSC field first) for the part the SC accepted as TP-MR `mr`."""
    if not 0 <= mr <= 255:
        raise PduError(f"TP-MR {mr} does not fit one octet")
    if not 0 <= status <= 255:
        raise PduError(f"TP-ST {status} does not fit one octet")
    tpdu = (
        bytes((MTI_STATUS_REPORT | _MMS, mr))
        + address.encode_number(recipient)
        + _scts.encode(scts)
        + _scts.encode(discharge_time)
        + bytes((status,))
    )
    return (address.encode_smsc(smsc) + tpdu).hex().upper()
