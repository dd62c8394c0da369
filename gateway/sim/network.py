"""The simulated network: an SMSC routing parts by number between modems and handsets.

It relays each SMS-SUBMIT as an SMS-DELIVER carrying the same user data bit for bit, sends
status reports when asked (TP-SRR), holds parts for a subscriber that cannot take them (storage
full, unplugged, unregistered) and retries when it can, and on request delays, reorders,
duplicates or drops parts.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING

from gateway.sim.addressing import DEFAULT_COUNTRY_CODE, classify, clean_number, subscriber_key
from gateway.sim.faults import FaultError
from gateway.sim.handset import Handset
from gateway.sms import (
    Address,
    Deliver,
    Submit,
    decode_pdu,
    encode_status_report,
    relay_submit_as_deliver,
)

if TYPE_CHECKING:
    from gateway.sim.modem import SimModem
    from gateway.sim.receive import TrafficKind
    from gateway.sim.smsc import SimSmsc

Clock = Callable[[], datetime]
DEFAULT_SMSC = "+15550000000"
REQUEUE_RETRY_S = 2.0
REORDER_WAIT_S = 10.0
REPORT_DELAY_S = 0.2  # an SMSC reports a delivery a moment after it happened
STATUS_DELIVERED = 0x00
CMS_UNASSIGNED_NUMBER = 1  # TS 24.011 RP-cause: unassigned (unallocated) number
DEFAULT_USSD = {"*100#": "Your balance is 10.00 SIM-units"}


def normalize_number(number: str) -> str:
    """Digits as the network compares them: no spaces or dashes, "00" prefix as "+"."""
    return clean_number(number)


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@dataclass(frozen=True, slots=True)
class Part:
    """One SMS-SUBMIT accepted by the SMSC, on its way to `destination`; `sender` is the
    address the network puts on it (the subscriber's own, with its type of number)."""

    sender: Address
    destination: Address
    submit: Submit
    mr: int
    submitted_at: datetime


@dataclass(frozen=True, slots=True)
class Held:
    """Traffic waiting for a modem: an SMS-DELIVER (with its part, for the report) or a report."""

    kind: TrafficKind
    pdu: str
    message_class: int | None = None
    part: Part | None = None


class SimNetwork:
    def __init__(
        self,
        smsc: str = DEFAULT_SMSC,
        *,
        clock: Clock | None = None,
        ussd: Mapping[str, str] | None = None,
        requeue_retry_s: float = REQUEUE_RETRY_S,
        report_delay_s: float = REPORT_DELAY_S,
        country_code: str = DEFAULT_COUNTRY_CODE,
        delivery_delay_s: float = 0.0,
    ) -> None:
        self.smsc = smsc
        self.country_code = country_code
        self.clock: Clock = clock if clock is not None else _utc_now
        self.ussd_replies = dict(DEFAULT_USSD if ussd is None else ussd)
        self.requeue_retry_s = requeue_retry_s
        self.report_delay_s = report_delay_s
        self.delivery_delay_s = delivery_delay_s  # every part, before any `delay` impairment
        self.modems: dict[str, SimModem] = {}
        self.handsets: dict[str, Handset] = {}
        self.held: dict[str, deque[Held]] = {}
        self.smscs: dict[str, SimSmsc] = {}  # SMPP short codes and their SMSC
        # Impairments applied to the next parts the SMSC routes.
        self.delay_s = 0.0
        self.delay_times: int | None = None
        self.reorder = False
        self.duplicate_times = 0
        self.drop_times = 0
        self.dropped: list[Part] = []
        self._reorder_groups: dict[tuple[str, str, int, int], list[Part]] = {}
        self.unassigned: set[str] = set()  # subscriber keys the SMSC refuses to deliver to
        self._timers: set[asyncio.TimerHandle] = set()
        self._flush_scheduled: set[str] = set()

    # ------------------------------------------------------------------ subscribers

    def attach(self, modem: SimModem) -> None:
        self.modems[normalize_number(modem.msisdn)] = modem
        modem.network = self
        modem.smsc = self.smsc

    def detach(self, modem: SimModem) -> None:
        self.modems.pop(normalize_number(modem.msisdn), None)
        modem.network = None

    def attach_smsc(self, smsc: SimSmsc) -> None:
        self.smscs[normalize_number(smsc.number)] = smsc

    def detach_smsc(self, smsc: SimSmsc) -> None:
        self.smscs.pop(normalize_number(smsc.number), None)

    def submit_from_esme(self, short_code: str, submit: Submit) -> None:
        """A part an SMPP client submitted on its short code (see gateway.sim.smsc)."""
        self._accept(Part(classify(short_code), submit.destination, submit, 0, self.clock()))

    def modem_named(self, name: str) -> SimModem | None:
        return next((m for m in self.modems.values() if m.name == name), None)

    def _smsc_at(self, address: Address) -> SimSmsc | None:
        """The simulated SMSC (an SMPP short code) this address names, if any."""
        return self.smscs.get(self.key(address)) or self.smscs.get(normalize_number(address.number))

    def key(self, address: Address) -> str:
        return subscriber_key(address, self.country_code)

    def handset(self, msisdn: str) -> Handset:
        """The customer's phone with this identity (a number, a short code or a sender name),
        created on first use; ValueError for an identity no network would carry."""
        address = classify(msisdn)
        key = self.key(address)
        handset = self.handsets.get(key)
        if handset is None:
            handset = Handset(address, self)
            self.handsets[key] = handset
        return handset

    def _lookup(self, address: Address) -> SimModem | Handset:
        key = self.key(address)
        number = clean_number(address.number)
        candidates = [key, number, number[1:] if number.startswith("+") else "+" + number]
        for candidate in candidates:
            if candidate in self.modems:
                return self.modems[candidate]
        for candidate in candidates:
            if candidate in self.handsets:
                return self.handsets[candidate]
        handset = Handset(address, self)
        self.handsets[key] = handset
        return handset

    # ------------------------------------------------------------------ mobile originated

    def refusal(self, destination: Address) -> int | None:
        """The RP-cause (as +CMS ERROR) with which the SMSC refuses a part to `destination`:
        1 (unassigned number) for a sender name or a number marked unassigned, else None."""
        if not destination.can_receive or self.key(destination) in self.unassigned:
            return CMS_UNASSIGNED_NUMBER
        return None

    def submit_from_modem(self, modem: SimModem, pdu: str, submit: Submit, mr: int) -> None:
        sender = classify(modem.msisdn)
        self._accept(Part(sender, submit.destination, submit, mr, self.clock()))

    def submit_from_handset(self, handset: Handset, submit: Submit, mr: int, to: str) -> None:
        self._accept(Part(handset.address, classify(to), submit, mr, self.clock()))

    def _accept(self, part: Part) -> None:
        if self.drop_times > 0:
            self.drop_times -= 1
            self.dropped.append(part)
            return
        copies = 1
        if self.duplicate_times > 0:
            self.duplicate_times -= 1
            copies = 2
        delay = self.delivery_delay_s
        if self.delay_s > 0 and (self.delay_times is None or self.delay_times > 0):
            delay += self.delay_s
            if self.delay_times is not None:
                self.delay_times -= 1
        concat = part.submit.concat
        if self.reorder and concat is not None and concat.total > 1:
            key = (self.key(part.sender), self.key(part.destination), concat.ref, concat.total)
            group = self._reorder_groups.setdefault(key, [])
            group.append(part)
            if len(group) == 1:
                self._later(REORDER_WAIT_S, lambda: self._release_group(key))
            if len({p.submit.concat.seq for p in group if p.submit.concat}) >= concat.total:
                self._release_group(key)
            return
        for _ in range(copies):
            self._later(delay, partial(self._route, part))

    def _release_group(self, key: tuple[str, str, int, int]) -> None:
        group = self._reorder_groups.pop(key, None)
        if not group:
            return
        for part in reversed(group):
            delay = self.delay_s if self.delay_times is None else 0.0
            self._later(self.delivery_delay_s + delay, partial(self._route, part))

    def _later(self, delay_s: float, callback: Callable[[], None]) -> None:
        loop = asyncio.get_running_loop()

        def fire() -> None:
            self._timers.discard(handle)
            callback()

        handle = loop.call_later(delay_s, fire)
        self._timers.add(handle)

    # ------------------------------------------------------------------ mobile terminated

    def _route(self, part: Part) -> None:
        smsc = self._smsc_at(part.destination)
        if smsc is not None:
            smsc.deliver_mo(part)
            return
        target = self._lookup(part.destination)
        pdu = relay_submit_as_deliver(part.submit, part.sender, self.clock(), smsc=self.smsc)
        if isinstance(target, Handset):
            deliver = decode_pdu(pdu)
            assert isinstance(deliver, Deliver)
            target.receive(deliver, self.clock())
            self._report(part)
            return
        held = Held("deliver", pdu, part.submit.dcs.message_class, part)
        queue = self.held.get(normalize_number(target.msisdn))
        if queue:  # keep the order: nothing overtakes what is already held
            queue.append(held)
            self.modem_ready(target)
            return
        if target.deliver_sms(pdu, held.message_class):
            self._report(part)
        else:
            self.held.setdefault(normalize_number(target.msisdn), deque()).append(held)

    def _report(self, part: Part) -> None:
        """SMS-STATUS-REPORT back to the sender when it asked for one."""
        smsc = self._smsc_at(part.sender)
        if smsc is not None:
            smsc.delivered(part)  # a delivery receipt over SMPP instead
            return
        if not part.submit.status_report_request:
            return
        pdu = encode_status_report(
            mr=part.mr,
            recipient=part.destination,
            scts=part.submitted_at,
            discharge_time=self.clock(),
            status=STATUS_DELIVERED,
            smsc=self.smsc,
        )
        self._later(self.report_delay_s, partial(self._send_report, part.sender, pdu))

    def _send_report(self, to: Address, pdu: str) -> None:
        sender = self._lookup(to)
        if isinstance(sender, Handset):
            sender.receive_report(pdu)
            return
        key = normalize_number(sender.msisdn)
        if self.held.get(key) or not sender.deliver_status_report(pdu):
            self.held.setdefault(key, deque()).append(Held("status-report", pdu))
            self.modem_ready(sender)

    def modem_ready(self, modem: SimModem) -> None:
        """The modem may take held traffic now (space freed, registered, booted, acked)."""
        key = normalize_number(modem.msisdn)
        if not self.held.get(key) or key in self._flush_scheduled:
            return
        self._flush_scheduled.add(key)
        self._later(0.0, lambda: self._flush(key))

    def _flush(self, key: str) -> None:
        self._flush_scheduled.discard(key)
        modem = self.modems.get(key)
        queue = self.held.get(key)
        while modem is not None and queue:
            held = queue[0]
            if held.kind == "deliver":
                if not modem.deliver_sms(held.pdu, held.message_class):
                    return
                queue.popleft()
                if held.part is not None:
                    self._report(held.part)
            else:
                if not modem.deliver_status_report(held.pdu):
                    return
                queue.popleft()

    def requeue(self, modem: SimModem, kind: TrafficKind, pdu: str) -> None:
        """A modem refused traffic it had taken (no +CNMA): hold it and try again later."""
        key = normalize_number(modem.msisdn)
        self.held.setdefault(key, deque()).appendleft(Held(kind, pdu))
        self._later(self.requeue_retry_s, lambda: self.modem_ready(modem))

    def ussd(self, modem: SimModem, code: str) -> str:
        return self.ussd_replies.get(code, "Unknown USSD code")

    # ------------------------------------------------------------------ impairments

    def apply_fault(self, kind: str, params: Mapping[str, object]) -> None:
        """delay {seconds, times?}, reorder {enabled?}, duplicate {times?}, drop {times?},
        unassigned {number, enabled?}, clear."""
        if kind == "unassigned":
            number = params.get("number")
            enabled = params.get("enabled", True)
            if not isinstance(number, str) or not isinstance(enabled, bool):
                raise FaultError("number must be a string and enabled true or false")
            try:
                subscriber = self.key(classify(number))
            except ValueError as exc:
                raise FaultError(str(exc)) from None
            if enabled:
                self.unassigned.add(subscriber)
            else:
                self.unassigned.discard(subscriber)
        elif kind == "delay":
            seconds = params.get("seconds", 1.0)
            times = params.get("times")
            if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
                raise FaultError("seconds must be a non-negative number")
            if times is not None and (isinstance(times, bool) or not isinstance(times, int)):
                raise FaultError("times must be an integer")
            self.delay_s = float(seconds)
            self.delay_times = times
        elif kind == "reorder":
            enabled = params.get("enabled", True)
            if not isinstance(enabled, bool):
                raise FaultError("enabled must be true or false")
            self.reorder = enabled
        elif kind in ("duplicate", "drop"):
            times = params.get("times", 1)
            if isinstance(times, bool) or not isinstance(times, int) or times < 0:
                raise FaultError("times must be a non-negative integer")
            setattr(self, f"{kind}_times", times)
        elif kind == "clear":
            self.delay_s = 0.0
            self.delay_times = None
            self.reorder = False
            self.duplicate_times = 0
            self.drop_times = 0
            self.unassigned.clear()
            for key in list(self._reorder_groups):
                self._release_group(key)
        else:
            raise FaultError(
                f"unknown network fault {kind!r}; known: delay, reorder, duplicate, drop,"
                " unassigned, clear"
            )

    def describe(self) -> dict[str, object]:
        return {
            "smsc": self.smsc,
            "delay_s": self.delay_s,
            "delay_times": self.delay_times,
            "reorder": self.reorder,
            "duplicate_times": self.duplicate_times,
            "drop_times": self.drop_times,
            "dropped": len(self.dropped),
            "unassigned": sorted(self.unassigned),
            "held": {key: len(queue) for key, queue in self.held.items() if queue},
        }

    async def aclose(self) -> None:
        for handle in list(self._timers):
            handle.cancel()
        self._timers.clear()
        for modem in list(self.modems.values()):
            with contextlib.suppress(Exception):
                await modem.aclose()
