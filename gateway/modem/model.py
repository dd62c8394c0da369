"""Value types the modem layer hands to the rest of the daemon, and the sink types it calls."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

LineStatus = Literal["connecting", "initialising", "ready", "down", "pin_error", "sim_error"]
Registration = Literal["unknown", "not_registered", "home", "searching", "denied", "roaming"]

# TS 27.005 3.1 <stat> in PDU mode
STAT_REC_UNREAD = 0
STAT_REC_READ = 1
STAT_STO_UNSENT = 2
STAT_STO_SENT = 3
STAT_ALL = 4


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """A PDU in the modem's storage: `memory` and `index` are what AT+CMGD needs to delete it."""

    memory: str
    index: int
    stat: int
    pdu: str  # hex, starting with the SMSC field
    length: int | None = None  # TPDU length in octets, as the modem reported it


@dataclass(frozen=True, slots=True)
class RawDelivery:
    """A PDU routed straight to us (+CMT or +CDS): not stored, acknowledged by +CNMA."""

    pdu: str
    length: int | None = None


@dataclass(frozen=True, slots=True)
class StorageStatus:
    """One memory of +CPMS: name, messages used, capacity."""

    memory: str
    used: int
    total: int


@dataclass(frozen=True, slots=True)
class Identity:
    """What the modem and its SIM say they are. Lines are keyed on `iccid`/`imsi`, not the tty."""

    manufacturer: str | None = None
    model: str | None = None
    revision: str | None = None
    imei: str | None = None
    imsi: str | None = None
    iccid: str | None = None
    own_number: str | None = None


@dataclass(frozen=True, slots=True)
class LineState:
    """A line's state as the supervisor last saw it; a new value on every change."""

    name: str
    status: LineStatus
    since: datetime  # when `status` last changed (UTC)
    signal_dbm: int | None = None
    signal_csq: int | None = None  # 0..31, None when unknown (99)
    registration: Registration = "unknown"
    identity: Identity = Identity()
    last_error: str | None = None
    device: str | None = None
    smsc: str | None = None

    @property
    def can_send(self) -> bool:
        return self.status == "ready" and self.registration in ("home", "roaming", "unknown")


InboundItem = StoredMessage | RawDelivery


class InboundSink(Protocol):
    """Commits received PDUs durably; returning means they may be deleted from the modem."""

    def __call__(self, line_name: str, messages: Sequence[InboundItem], /) -> Awaitable[None]: ...


class ReportSink(Protocol):
    """Commits status-report PDUs durably; returning means they may be deleted/acknowledged."""

    def __call__(self, line_name: str, reports: Sequence[InboundItem], /) -> Awaitable[None]: ...


StateCallback = Callable[[LineState], None]
