"""SMPP 3.4 PDUs as plain values: framing here, the body codec is smpp.pdu3's (Jasmin's).

Both sides use this module: the daemon's ESME sessions and the simulator's SMSC. Values cross
this boundary as plain Python: integers for esm_class, data_coding, registered_delivery, TON,
NPI, message_state and command_status, bytes for addresses and message bodies, so nothing
above it depends on the library's enums. A body that cannot be decoded raises SmppDecodeError
carrying the header, so the session can still answer it (generic_nack or an error response)
by sequence number.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from smpp.pdu import constants as _constants
from smpp.pdu import operations as _operations
from smpp.pdu import pdu_encoding as _encoding
from smpp.pdu import pdu_types as _types
from smpp.pdu.error import PDUParseError as _PDUParseError

HEADER = struct.Struct(">IIII")
HEADER_LENGTH = HEADER.size
MAX_PDU_LENGTH = 64 * 1024  # far above any legal PDU; a larger length means a broken stream

ESME_ROK = 0x00
ESME_RINVMSGLEN = 0x01
ESME_RINVCMDLEN = 0x02
ESME_RINVCMDID = 0x03
ESME_RINVBNDSTS = 0x04
ESME_RALYBND = 0x05
ESME_RSYSERR = 0x08
ESME_RBINDFAIL = 0x0D
ESME_RINVPASWD = 0x0E
ESME_RINVSYSID = 0x0F
ESME_RMSGQFUL = 0x14
ESME_RTHROTTLED = 0x58
ESME_RX_T_APPN = 0x64  # the ESME cannot take the message now: the SMSC redelivers later
ESME_RUNKNOWNERR = 0xFF

GENERIC_NACK = 0x80000000
RESPONSE_BIT = 0x80000000

# esm_class bits (SMPP 3.4 5.2.12)
ESM_UDHI = 0x40
ESM_TYPE_MASK = 0x3C
ESM_DELIVERY_RECEIPT = 0x04
# registered_delivery (5.2.17): a final receipt for success and failure
RECEIPT_FINAL = 0x01

# The optional parameters this product reads or writes, by name.
SAR_MSG_REF_NUM = "sar_msg_ref_num"
SAR_TOTAL_SEGMENTS = "sar_total_segments"
SAR_SEGMENT_SEQNUM = "sar_segment_seqnum"
MESSAGE_PAYLOAD = "message_payload"
RECEIPTED_MESSAGE_ID = "receipted_message_id"
MESSAGE_STATE = "message_state"

# One-octet fields the library maps to enums, and rejects when a value is reserved. Here they
# are plain integers both ways: what an SMSC sends is stored as sent, and a reserved value in a
# customer's message must not make it undeliverable.
_RAW_OCTETS = (
    "esm_class", "registered_delivery", "data_coding", "priority_flag",
    "replace_if_present_flag", "addr_ton", "addr_npi", "source_addr_ton", "source_addr_npi",
    "dest_addr_ton", "dest_addr_npi", "esme_addr_ton", "esme_addr_npi",
)
_TIMES = ("schedule_delivery_time", "validity_period")


class _PlainEncoder(_encoding.PDUEncoder):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        # Instance attributes shadow the library's class-level tables (left untouched).
        self.DefaultRequiredParamEncoders = {
            **_encoding.PDUEncoder.DefaultRequiredParamEncoders,
            **{name: _encoding.Int1Encoder() for name in _RAW_OCTETS},
            **{name: _encoding.COctetStringEncoder(17) for name in _TIMES},
        }
        self.CustomRequiredParamEncoders = {
            command: {name: codec for name, codec in encoders.items() if name not in _TIMES}
            for command, encoders in _encoding.PDUEncoder.CustomRequiredParamEncoders.items()
        }
        self.optionEncoder.options[_types.Tag.message_state] = _encoding.Int1Encoder()


_ENCODER = _PlainEncoder()


class SmppError(Exception):
    """Root of every error of gateway.smpp."""


class SmppDecodeError(SmppError):
    """A frame whose body could not be decoded; `status` is the command_status to answer with."""

    def __init__(self, message: str, *, command_id: int, sequence: int, status: int) -> None:
        super().__init__(message)
        self.command_id = command_id
        self.sequence = sequence
        self.status = status


class SmppFramingError(SmppError):
    """A command_length that no PDU can have: the stream cannot be resynchronised."""


@dataclass(frozen=True, slots=True)
class Pdu:
    """One SMPP PDU: `command` is the SMPP name (`submit_sm`, `deliver_sm_resp`, ...)."""

    command: str
    sequence: int
    status: int = ESME_ROK
    params: Mapping[str, Any] = field(default_factory=dict)
    body: bytes = field(default=b"", compare=False, repr=False)  # as received, header excluded

    @property
    def is_response(self) -> bool:
        return self.command.endswith("_resp") or self.command == "generic_nack"

    def get(self, name: str, default: Any = None) -> Any:
        return self.params.get(name, default)

    def text_param(self, name: str) -> str:
        """A C-octet string parameter as text (latin-1, so any byte survives)."""
        value = self.params.get(name)
        if value is None:
            return ""
        return value.decode("latin-1") if isinstance(value, bytes) else str(value)


def command_id(name: str) -> int:
    return int(_constants.command_id_name_map[name])


def command_name(value: int) -> str | None:
    name = _constants.command_id_value_map.get(value)
    return None if name is None else str(name)


def status_name(status: int) -> str:
    entry = _constants.command_status_value_map.get(status)
    return f"{entry['name']} ({status:#x})" if entry else f"command_status {status:#x}"


def response_name(request: str) -> str:
    return "generic_nack" if request == "generic_nack" else f"{request}_resp"


def read_header(frame: bytes) -> tuple[int, int, int, int]:
    """(command_length, command_id, command_status, sequence_number) of a frame."""
    length, cid, status, sequence = HEADER.unpack_from(frame)
    return int(length), int(cid), int(status), int(sequence)


def check_length(length: int) -> None:
    if not HEADER_LENGTH <= length <= MAX_PDU_LENGTH:
        raise SmppFramingError(f"command_length {length} is not a possible PDU length")


def decode(frame: bytes) -> Pdu:
    """A whole frame (header included) as a Pdu; raises SmppDecodeError with the header."""
    length, cid, status, sequence = read_header(frame)
    name = command_name(cid)
    if name is None:
        raise SmppDecodeError(
            f"unknown command_id {cid:#010x}", command_id=cid, sequence=sequence,
            status=ESME_RINVCMDID,
        )
    try:
        decoded = _ENCODER.decode(io.BytesIO(frame))
    except _PDUParseError as error:
        code = _constants.command_status_name_map.get(getattr(error.status, "name", ""))
        raise SmppDecodeError(
            f"{name}: {error}", command_id=cid, sequence=sequence,
            status=int(code) if code is not None else ESME_RSYSERR,
        ) from error
    except (ValueError, KeyError, IndexError, TypeError, struct.error) as error:
        raise SmppDecodeError(
            f"{name}: malformed body ({error})", command_id=cid, sequence=sequence,
            status=ESME_RSYSERR,
        ) from error
    params = {key: value for key, value in decoded.params.items() if value is not None}
    return Pdu(name, sequence, status, params, bytes(frame[HEADER_LENGTH:length]))


def encode(pdu: Pdu) -> bytes:
    """The frame of a Pdu. Parameters not given take the SMPP defaults (empty, zero)."""
    klass = _operations.getPDUClass(getattr(_types.CommandId, pdu.command))
    params = dict(pdu.params)
    status_enum = _types.CommandStatus.ESME_ROK
    if pdu.status != ESME_ROK:
        entry = _constants.command_status_value_map.get(pdu.status)
        status_enum = getattr(_types.CommandStatus, entry["name"] if entry else "ESME_RUNKNOWNERR")
    if pdu.status != ESME_ROK and getattr(klass, "noBodyOnError", False):
        params = {}
    built = klass(seqNum=pdu.sequence, status=status_enum, **params)
    _fill_mandatory_defaults(built)
    # The library checks variable-length TLVs against the length last decoded: clear it.
    _ENCODER.optionEncoder.length = None
    frame = bytearray(_ENCODER.encode(built))
    # The header carries the exact status, vendor codes included.
    struct.pack_into(">I", frame, 8, pdu.status)
    return bytes(frame)


_DEFAULTS: dict[str, Any] = {
    "service_type": b"", "source_addr_ton": 0, "source_addr_npi": 0, "dest_addr_ton": 0,
    "dest_addr_npi": 0, "esm_class": 0, "protocol_id": 0, "priority_flag": 0,
    "registered_delivery": 0, "replace_if_present_flag": 0, "data_coding": 0,
    "sm_default_msg_id": 0, "short_message": b"", "system_type": b"", "interface_version": 0x34,
    "addr_ton": 0, "addr_npi": 0, "address_range": b"", "source_addr": b"",
}


def _fill_mandatory_defaults(built: Any) -> None:
    if built.status != _types.CommandStatus.ESME_ROK and getattr(built, "noBodyOnError", False):
        return
    for name in built.mandatoryParams:
        if built.params.get(name) is None and name in _DEFAULTS:
            built.params[name] = _DEFAULTS[name]
