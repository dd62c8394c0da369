"""Mobile-terminated traffic inside a modem: where +CNMI sends a message or a status report.

Store and indicate (+CMTI, +CDSI), route directly (+CMT, +CDS; acknowledged with +CNMA when
+CSMS=1), or refuse when the modem cannot take it, so the network holds it and retries.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from gateway.sim.atargs import encode_charset, text_time
from gateway.sim.storage import MemoryFullError, tpdu_length
from gateway.sms import Deliver, PduError, StatusReport, decode_pdu

if TYPE_CHECKING:
    from gateway.sim.modem import SimModem

# TS 27.005 leaves the acknowledgement timeout to the network (TS 24.011 TR2M: 12-20 s).
CNMA_TIMEOUT_S = 15.0

TrafficKind = Literal["deliver", "status-report"]


@dataclass(slots=True)
class PendingAck:
    """A +CMT / +CDS the TE must acknowledge with +CNMA before the next one is routed."""

    pdu: str
    kind: TrafficKind
    timer: asyncio.TimerHandle | None


def _can_receive(modem: SimModem) -> bool:
    return modem.plugged and modem.registered and modem.sim.state == "READY"


def _route_direct(modem: SimModem, pdu_hex: str, kind: TrafficKind) -> bool:
    if modem.pending_ack is not None:
        return False  # one unacknowledged message at a time
    head = "+CMT" if kind == "deliver" else "+CDS"
    if modem.settings.cmgf == 0:
        length = tpdu_length(pdu_hex)
        if kind == "deliver":
            modem.emit_urc(f"{head}: ,{length}", pdu_hex, sms=True)
        else:
            modem.emit_urc(f"{head}: {length}", pdu_hex, sms=True)
    else:
        try:
            pdu = decode_pdu(pdu_hex)
        except PduError:
            return True  # nothing sensible to show; the network considers it delivered
        if isinstance(pdu, Deliver):
            body = pdu.text if pdu.text is not None else pdu.user_data.hex().upper()
            oa = encode_charset(modem, pdu.originator.number)
            modem.emit_urc(
                f'{head}: "{oa}",,"{text_time(pdu.scts)}"', encode_charset(modem, body), sms=True
            )
        elif isinstance(pdu, StatusReport):
            ra = pdu.recipient.number
            toa = 145 if ra.startswith("+") else 129
            modem.emit_urc(
                f'{head}: 6,{pdu.mr},"{ra}",{toa},"{text_time(pdu.scts)}",'
                f'"{text_time(pdu.discharge_time)}",{pdu.status}',
                sms=True,
            )
    if modem.settings.csms == 1:
        timer = modem.call_later(CNMA_TIMEOUT_S, lambda: _ack_timeout(modem))
        modem.pending_ack = PendingAck(pdu_hex, kind, timer)
    return True


def _ack_timeout(modem: SimModem) -> None:
    """No +CNMA in time: the ME refuses the message and turns direct routing off (27.005)."""
    pending = modem.pending_ack
    if pending is None:
        return
    pending.timer = None
    mode, _mt, bm, _ds, bfr = modem.settings.cnmi
    modem.settings.cnmi = (mode, 0, bm, 0, bfr)
    drop_pending_ack(modem, requeue=True)


def acknowledge(modem: SimModem, *, positive: bool) -> None:
    pending = modem.pending_ack
    if pending is None:
        return
    if positive:
        modem.cancel_timer(pending.timer)
        modem.pending_ack = None
        modem.storage_freed()  # the next held message may come now
    else:
        drop_pending_ack(modem, requeue=True)


def drop_pending_ack(modem: SimModem, *, requeue: bool) -> None:
    pending = modem.pending_ack
    if pending is None:
        return
    modem.pending_ack = None
    modem.cancel_timer(pending.timer)
    if requeue and modem.network is not None:
        modem.network.requeue(modem, pending.kind, pending.pdu)


def deliver_sms(modem: SimModem, pdu_hex: str, message_class: int | None) -> bool:
    """The network offers an SMS-DELIVER; False means "not now" (the network keeps it)."""
    if not _can_receive(modem):
        return False
    mode, mt = modem.settings.cnmi[0], modem.settings.cnmi[1]
    direct = (mt == 2 and message_class != 2) or (mt == 3 and message_class == 3)
    if direct and mode != 0 and modem.answering():
        return _route_direct(modem, pdu_hex, "deliver")
    memory = modem.storage[modem.settings.cpms[2]]
    try:
        stored = memory.store(pdu_hex, "deliver")
    except MemoryFullError:
        return False
    if mt in (1, 2, 3):
        modem.emit_urc(f'+CMTI: "{memory.name}",{stored.index}', sms=True)
    return True


def deliver_status_report(modem: SimModem, pdu_hex: str) -> bool:
    """The network offers an SMS-STATUS-REPORT, routed by +CNMI <ds>."""
    if not _can_receive(modem):
        return False
    mode, ds = modem.settings.cnmi[0], modem.settings.cnmi[3]
    if ds == 0:
        return True  # not routed to the TE: the report is dropped, as on real modems
    if ds == 1 and mode != 0 and modem.answering():
        return _route_direct(modem, pdu_hex, "status-report")
    name = modem.profile.report_memory
    memory = modem.storage[name if name in modem.storage else modem.settings.cpms[2]]
    try:
        stored = memory.store(pdu_hex, "status-report")
    except MemoryFullError:
        return False
    modem.emit_urc(f'+CDSI: "{memory.name}",{stored.index}', sms=True)
    return True
