"""The codec's value types: what a PDU means, independent of how it is encoded."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Encoding = Literal["gsm7", "ucs2", "8bit"]
ReportOutcome = Literal["delivered", "pending", "failed"]


class PduError(ValueError):
    """A PDU that cannot be decoded or a message that cannot be encoded; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class MessageTooLongError(PduError):
    """The text needs more parts than the configured maximum."""

    def __init__(self, length: int, parts: int, max_parts: int, encoding: Encoding) -> None:
        super().__init__(
            f"message of {length} characters needs {parts} {encoding} parts;"
            f" the limit is {max_parts} parts"
        )
        self.length = length
        self.parts = parts
        self.max_parts = max_parts
        self.encoding = encoding


class AddressType(enum.Enum):
    """TS 23.040 9.1.2.5 type of number (TON), as the network gave it."""

    UNKNOWN = "unknown"
    INTERNATIONAL = "international"
    NATIONAL = "national"
    NETWORK_SPECIFIC = "network_specific"
    SUBSCRIBER = "subscriber"
    ALPHANUMERIC = "alphanumeric"
    ABBREVIATED = "abbreviated"
    RESERVED = "reserved"

    @property
    def ton(self) -> int:
        return _TON_OF[self]

    @classmethod
    def from_ton(cls, ton: int) -> AddressType:
        return _TYPE_OF[ton & 0x07]


_TYPE_OF = dict(enumerate(AddressType))
_TON_OF = {kind: ton for ton, kind in _TYPE_OF.items()}

NPI_UNKNOWN = 0
NPI_ISDN = 1  # ISDN/telephone numbering plan (E.164), what handsets and SMSCs use


@dataclass(frozen=True, slots=True)
class Address:
    """A TP-OA / TP-DA / TP-RA exactly as carried: `number` is '+15551234567' for an
    international number, the digits as sent for other numbers (national, short codes) and the
    text for an alphanumeric sender; `npi` is the numbering plan (TS 23.040 9.1.2.5)."""

    number: str
    type: AddressType
    npi: int = NPI_ISDN

    @property
    def toa(self) -> int:
        """The type-of-address octet: 1, TON (3 bits), NPI (4 bits)."""
        return 0x80 | self.type.ton << 4 | (self.npi & 0x0F)

    @property
    def can_receive(self) -> bool:
        """False for an alphanumeric sender: nothing can be sent to a name."""
        return self.type is not AddressType.ALPHANUMERIC


@dataclass(frozen=True, slots=True)
class Concat:
    """Concatenation header (IEI 0x00 with an 8-bit reference, IEI 0x08 with a 16-bit one)."""

    ref: int
    total: int
    seq: int
    ref_bits: Literal[8, 16] = 8


@dataclass(frozen=True, slots=True)
class InformationElement:
    iei: int
    data: bytes


@dataclass(frozen=True, slots=True)
class DataCoding:
    """TP-DCS as TS 23.038 defines it."""

    raw: int
    encoding: Encoding
    compressed: bool = False
    message_class: int | None = None
    auto_delete: bool = False
    # Message-waiting indication groups: (active, kind) where kind is voicemail/fax/email/other.
    mwi: tuple[bool, str] | None = None
    mwi_store: bool | None = None


@dataclass(frozen=True, slots=True)
class Deliver:
    """SMS-DELIVER: a message from the network to the modem."""

    smsc: Address | None
    originator: Address
    pid: int
    dcs: DataCoding
    scts: datetime
    text: str | None  # None when the content is binary or otherwise undisplayable
    user_data: bytes  # the user data without its header (septets unpacked to bytes for gsm7)
    concat: Concat | None = None
    udh: tuple[InformationElement, ...] = ()
    more_messages_to_send: bool = False
    status_report_indication: bool = False
    reply_path: bool = False
    undisplayable_reason: str | None = None
    tp_udl: int = 0
    tp_ud: bytes = b""
    udhi: bool = False  # TP-UDHI as received (a header may hold no IEs at all)


@dataclass(frozen=True, slots=True)
class Submit:
    """SMS-SUBMIT: a message from the modem to the network."""

    smsc: Address | None
    destination: Address
    mr: int
    pid: int
    dcs: DataCoding
    validity_minutes: int | None
    status_report_request: bool
    text: str | None
    user_data: bytes
    concat: Concat | None = None
    udh: tuple[InformationElement, ...] = ()
    reject_duplicates: bool = False
    undisplayable_reason: str | None = None
    # TP-UDL and TP-UD exactly as encoded (header included), so an SMSC can relay them bit for bit.
    tp_udl: int = 0
    tp_ud: bytes = b""
    udhi: bool = False  # TP-UDHI as received (a header may hold no IEs at all)
    reply_path: bool = False


@dataclass(frozen=True, slots=True)
class StatusReport:
    """SMS-STATUS-REPORT: the fate of a submitted part, matched by TP-MR and recipient."""

    smsc: Address | None
    mr: int
    recipient: Address
    scts: datetime
    discharge_time: datetime
    status: int  # raw TP-ST
    outcome: ReportOutcome


Pdu = Deliver | Submit | StatusReport


@dataclass(frozen=True, slots=True)
class EncodedPart:
    """One part ready for AT+CMGS: `pdu` is hex starting with the SMSC field and
    `tpdu_length` is the <length> AT+CMGS takes."""

    pdu: str
    tpdu_length: int
    text: str  # the piece of the message this part carries
    concat: Concat | None = None


@dataclass(frozen=True, slots=True)
class EncodedMessage:
    encoding: Encoding
    parts: tuple[EncodedPart, ...]


@dataclass(frozen=True, slots=True)
class SegmentCount:
    """What the agent's composer shows while typing."""

    encoding: Literal["gsm7", "ucs2"]
    parts: int
    units_used: int  # septets (gsm7) or UTF-16 code units (ucs2) in the last part
    units_left: int  # left in the last part before another part is needed
    characters: int
    ucs2_characters: tuple[str, ...] = field(default_factory=tuple)  # distinct, in order seen
    max_parts: int | None = None
    too_long: bool = False
