"""Message storage of a simulated modem: SM, ME and SR memories, each with its own indexes.

What +CPMS selects, +CMGR/+CMGL/+CMGD read and delete, and incoming messages fill.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

# TS 27.005 <stat>: numeric in PDU mode, text in text mode.
STAT_REC_UNREAD = 0
STAT_REC_READ = 1
STAT_STO_UNSENT = 2
STAT_STO_SENT = 3
STAT_ALL = 4
STAT_TEXT: dict[int, str] = {
    STAT_REC_UNREAD: "REC UNREAD",
    STAT_REC_READ: "REC READ",
    STAT_STO_UNSENT: "STO UNSENT",
    STAT_STO_SENT: "STO SENT",
    STAT_ALL: "ALL",
}
STAT_BY_TEXT: dict[str, int] = {text: stat for stat, text in STAT_TEXT.items()}

StoredKind = Literal["deliver", "status-report", "submit"]


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """One slot's content: `pdu` is hex with the SMSC field, `tpdu_length` what +CMGR shows."""

    index: int
    stat: int
    pdu: str
    tpdu_length: int
    kind: StoredKind


def tpdu_length(pdu_hex: str) -> int:
    """<length> of AT+CMGS/+CMGR: octets after the SMSC field."""
    smsc_octets = int(pdu_hex[0:2], 16)
    return len(pdu_hex) // 2 - 1 - smsc_octets


class MemoryFullError(Exception):
    """No free slot in the memory."""


class Memory:
    """One memory ("SM", "ME", "SR"): `capacity` slots numbered from `first_index`."""

    def __init__(self, name: str, capacity: int, first_index: int) -> None:
        self.name = name
        self.capacity = capacity
        self.first_index = first_index
        # A fault can make the memory look full without changing its real size.
        self.capacity_limit: int | None = None
        self._slots: dict[int, StoredMessage] = {}

    @property
    def used(self) -> int:
        return len(self._slots)

    @property
    def total(self) -> int:
        """What +CPMS reports: a storage-full fault shows as a memory with no room left."""
        if self.capacity_limit is None:
            return self.capacity
        return max(min(self.capacity_limit, self.capacity), len(self._slots))

    @property
    def is_full(self) -> bool:
        return len(self._slots) >= self.total

    def valid_index(self, index: int) -> bool:
        return self.first_index <= index < self.first_index + self.capacity

    def store(self, pdu: str, kind: StoredKind, stat: int = STAT_REC_UNREAD) -> StoredMessage:
        if self.is_full:
            raise MemoryFullError(self.name)
        index = self.first_index
        while index in self._slots:
            index += 1
        message = StoredMessage(index, stat, pdu, tpdu_length(pdu), kind)
        self._slots[index] = message
        return message

    def get(self, index: int) -> StoredMessage | None:
        return self._slots.get(index)

    def mark_read(self, index: int) -> None:
        message = self._slots.get(index)
        if message is not None and message.stat == STAT_REC_UNREAD:
            self._slots[index] = replace(message, stat=STAT_REC_READ)

    def listing(self, stat: int) -> list[StoredMessage]:
        return [m for _, m in sorted(self._slots.items()) if stat == STAT_ALL or m.stat == stat]

    def delete(self, index: int) -> bool:
        return self._slots.pop(index, None) is not None

    def delete_by_flag(self, flag: int) -> int:
        """+CMGD <delflag> 1..4: read; read+sent; read+sent+unsent; everything."""
        doomed = {
            1: {STAT_REC_READ},
            2: {STAT_REC_READ, STAT_STO_SENT},
            3: {STAT_REC_READ, STAT_STO_SENT, STAT_STO_UNSENT},
            4: {STAT_REC_UNREAD, STAT_REC_READ, STAT_STO_SENT, STAT_STO_UNSENT},
        }[flag]
        indexes = [i for i, m in self._slots.items() if m.stat in doomed]
        for index in indexes:
            del self._slots[index]
        return len(indexes)

    def snapshot(self) -> list[StoredMessage]:
        return [m for _, m in sorted(self._slots.items())]


class Storage:
    """All memories of one modem (they survive resets: they are the SIM and the flash)."""

    def __init__(self, capacities: dict[str, int], first_index: int) -> None:
        self.memories: dict[str, Memory] = {
            name: Memory(name, capacity, first_index) for name, capacity in capacities.items()
        }

    def __getitem__(self, name: str) -> Memory:
        return self.memories[name]

    def __contains__(self, name: object) -> bool:
        return name in self.memories
