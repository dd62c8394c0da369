"""A customer's phone on the simulated network: sends as a phone does, shows a reassembled inbox."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from gateway.sms import (
    Address,
    Deliver,
    PduError,
    StatusReport,
    Submit,
    decode_pdu,
    encode_submit,
    reassemble,
)

if TYPE_CHECKING:
    from gateway.sim.network import SimNetwork

MAX_PARTS = 255


@dataclass(frozen=True, slots=True)
class InboxMessage:
    """A message as the phone's user sees it: text None when it carried undisplayable data."""

    from_: str
    text: str | None
    parts: int
    received_at: datetime
    from_type: str = "international"  # the originator's type of number, as delivered


class Handset:
    """A subscriber with an identity: an international or national number, a short code, or
    a sender name (alphanumeric: it can send, and nothing can be sent to it)."""

    def __init__(self, address: Address, network: SimNetwork) -> None:
        self.address = address
        self.msisdn = address.number
        self.network = network
        self.inbox: list[InboxMessage] = []
        self.reports: list[StatusReport] = []
        self.received_parts: list[Deliver] = []  # every part, duplicates included
        self._next_mr = 0
        self._next_ref = 1
        # Open multipart groups only: a group leaves once complete, as on a real phone, so a
        # reference used again (gammu-smsd uses 0xC0 for every message) starts a new message.
        self._groups: dict[tuple[str, int, int, int], list[Deliver]] = {}
        self._inbox_changed = asyncio.Event()

    # ------------------------------------------------------------------ sending

    def _take_mr(self) -> int:
        mr = self._next_mr
        self._next_mr = (mr + 1) % 256
        return mr

    def send(
        self,
        to: str,
        text: str,
        *,
        encoding: Literal["auto", "gsm7", "ucs2"] = "auto",
        ref_bits: Literal[8, 16] = 8,
        status_report: bool = False,
    ) -> int:
        """Split and encode like a phone and submit every part; returns the number of parts."""
        ref = self._next_ref % (1 << ref_bits)
        self._next_ref += 1
        message = encode_submit(
            text,
            to,
            encoding=encoding,
            mr=self._next_mr,
            ref=ref,
            ref_bits=ref_bits,
            status_report=status_report,
            max_parts=MAX_PARTS,
        )
        for part in message.parts:
            submit = decode_pdu(part.pdu)
            assert isinstance(submit, Submit)
            self.network.submit_from_handset(self, submit, self._take_mr(), to)
        return len(message.parts)

    def send_pdus(self, to: str, pdus: Sequence[str]) -> int:
        """Submit ready-made SMS-SUBMIT PDUs (hex, with or without the SMSC field) to `to`."""
        submits: list[Submit] = []
        for pdu in pdus:
            submits.append(_parse_submit(pdu))
        for submit in submits:
            self.network.submit_from_handset(self, submit, self._take_mr(), to)
        return len(submits)

    # ------------------------------------------------------------------ receiving

    def receive(self, deliver: Deliver, received_at: datetime) -> None:
        self.received_parts.append(deliver)
        concat = deliver.concat
        sender = deliver.originator.number
        kind = deliver.originator.type.value
        if concat is None or concat.total <= 1:
            self.inbox.append(InboxMessage(sender, deliver.text, 1, received_at, kind))
            self._inbox_changed.set()
            return
        key = (sender, concat.ref, concat.total, concat.ref_bits)
        group = self._groups.setdefault(key, [])
        if any(p.concat is not None and p.concat.seq == concat.seq for p in group):
            return  # a duplicate of a part already held
        group.append(deliver)
        if len(group) < concat.total:
            return
        del self._groups[key]
        try:
            text = reassemble(group)
        except PduError:
            text = None
        self.inbox.append(InboxMessage(sender, text, concat.total, received_at, kind))
        self._inbox_changed.set()

    def receive_report(self, pdu: str) -> None:
        report = decode_pdu(pdu)
        if isinstance(report, StatusReport):
            self.reports.append(report)

    async def wait_for_inbox(self, count: int, timeout_s: float = 5.0) -> list[InboxMessage]:
        """The inbox once it holds `count` messages; TimeoutError otherwise."""
        async with asyncio.timeout(timeout_s):
            while len(self.inbox) < count:
                self._inbox_changed.clear()
                await self._inbox_changed.wait()
        return list(self.inbox)


def _parse_submit(pdu: str) -> Submit:
    """An SMS-SUBMIT in hex, with the SMSC field as AT+CMGS takes it, or a bare TPDU."""
    errors: list[str] = []
    for has_smsc in (True, False):
        try:
            decoded = decode_pdu(pdu, has_smsc=has_smsc)
        except PduError as exc:
            errors.append(exc.reason)
            continue
        if isinstance(decoded, Submit):
            return decoded
        errors.append(f"not an SMS-SUBMIT ({type(decoded).__name__})")
    raise PduError(f"not an SMS-SUBMIT PDU: {'; '.join(errors)}")
