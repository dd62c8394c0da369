"""Inbound: decodes what a modem hands over and commits it before the modem may delete it.

The supervisor calls `sink` / `report_sink` and deletes or acknowledges only after they return
(an SMPP line calls `smpp_sink` and answers deliver_sm only then); so these raise
(StoreUnavailableError) rather than drop anything when the database cannot be written. A batch
that fails for any other reason is stored message by message, so one poison message cannot hold
back the others; a message that still fails after `quarantine_after_attempts` tries is committed
to the quarantine with its raw PDU (an SMPP delivery's deliver_sm body) and the reason, and only
then may the modem delete it (or the SMSC have its acknowledgement). Partial multipart messages
are released by `run_release_loop` after the reassembly timeout, with a visible marker for the
missing parts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import TypeVar

import structlog

from gateway.bus import Publisher
from gateway.modem.model import InboundItem
from gateway.smpp.messages import SmppInbound, SmppReceipt
from gateway.sms import decode_pdu
from gateway.sms.model import Deliver, PduError, StatusReport, Submit
from gateway.store import InboundPart, Store
from gateway.store.domain import PartStatus
from gateway.store.errors import StoreUnavailableError
from gateway.store.inbound import pdu_hash

log = structlog.get_logger("gateway.pipeline.inbound")

Clock = Callable[[], datetime]

# TS 23.040 9.2.3.15: a report's outcome decides a part's final status; `pending` is not final.
_REPORT_STATUS: dict[str, PartStatus] = {"delivered": "delivered", "failed": "failed"}
DEFAULT_QUARANTINE_AFTER_ATTEMPTS = 5
# Failure counts kept at most for this many messages (a spray of distinct poison messages).
_MAX_TRACKED_FAILURES = 10_000
Item = TypeVar("Item", InboundItem, SmppInbound)
StoreItems = Callable[[str, int, Sequence[Item]], Awaitable[None]]
_RECEIPT_STATUS: dict[str, PartStatus] = {**_REPORT_STATUS, "expired": "expired"}
# How long after storing an SMPP part the same PDU is taken for the SMSC's redelivery.
SMPP_REDELIVERY_WINDOW_S = 600.0


def decode_inbound(pdu: str) -> InboundPart | StatusReport | Submit:
    """What one stored or routed PDU is; an undecodable one becomes a raw placeholder part."""
    try:
        decoded = decode_pdu(pdu)
    except PduError as error:
        return InboundPart.undecodable(pdu, f"undecodable PDU: {error.reason}")
    if not isinstance(decoded, Deliver):
        return decoded
    return InboundPart(
        pdu=pdu,
        sender=decoded.originator.number,
        sender_ton=decoded.originator.type.ton,
        sender_npi=decoded.originator.npi,
        scts=decoded.scts,
        encoding=decoded.dcs.encoding,
        text=decoded.text,
        user_data=decoded.user_data,
        concat=decoded.concat,
        placeholder_reason=decoded.undisplayable_reason,
    )


def _raw(item: InboundItem | SmppInbound) -> str:
    """What the quarantine keeps of an item: a modem's PDU, an SMPP delivery's body."""
    return item.raw if isinstance(item, SmppInbound) else item.pdu


class MessageRefusedError(Exception):
    """The store refused a message (not for want of a database); it stays on the modem and is
    tried again. The message says only the error's kind, since the database's own text can
    quote the message, and this one reaches logs and the line's status."""


class InboundHandler:
    def __init__(
        self,
        store: Store,
        publisher: Publisher,
        line_ids: dict[str, int],
        *,
        reassembly_timeout_s: float,
        report_window_s: float,
        clock: Clock,
        redelivery_window_s: float = SMPP_REDELIVERY_WINDOW_S,
        quarantine_after_attempts: int = DEFAULT_QUARANTINE_AFTER_ATTEMPTS,
    ) -> None:
        self._store = store
        self._quarantine_after = max(1, quarantine_after_attempts)
        self._failures: dict[tuple[int, str], int] = {}
        self._publisher = publisher
        self._line_ids = line_ids
        self._reassembly_timeout_s = reassembly_timeout_s
        self._report_window_s = report_window_s
        self._clock = clock
        self._redelivery_window_s = redelivery_window_s
        self._partial_arrived = asyncio.Event()

    async def sink(self, line_name: str, items: Sequence[InboundItem], /) -> None:
        await self._guarded(line_name, items, self._store_messages)

    async def report_sink(self, line_name: str, items: Sequence[InboundItem], /) -> None:
        await self._guarded(line_name, items, self._store_reports)

    async def _guarded(
        self, line_name: str, items: Sequence[Item], store: StoreItems[Item]
    ) -> None:
        """`store` the batch; if that fails (not for want of a database), each item alone, so
        the good ones are committed and a poison one is counted, and quarantined once it has
        failed `quarantine_after_attempts` times. Raises while an item is neither stored nor
        quarantined, so the modem keeps it (the SMSC delivers it again) and the sink is called
        again."""
        line_id = self._line_ids[line_name]
        try:
            await store(line_name, line_id, items)
        except StoreUnavailableError:
            raise
        except Exception as batch_error:
            if len(items) == 1:
                await self._count_failure(line_name, line_id, items[0], batch_error)
                return
        else:
            self._forget(line_id, items)
            return
        unresolved: Exception | None = None
        for item in items:
            try:
                await store(line_name, line_id, [item])
            except StoreUnavailableError:
                raise
            except Exception as error:
                try:
                    await self._count_failure(line_name, line_id, item, error)
                except Exception as kept:
                    unresolved = unresolved or kept
            else:
                self._forget(line_id, [item])
        if unresolved is not None:
            raise unresolved

    async def _count_failure(
        self, line_name: str, line_id: int, item: InboundItem | SmppInbound, error: Exception
    ) -> None:
        """Raise `error` again until the item has failed often enough; then quarantine it."""
        raw = _raw(item)
        key = (line_id, pdu_hash(raw))
        attempts = self._failures.pop(key, 0) + 1
        if attempts < self._quarantine_after:
            if len(self._failures) >= _MAX_TRACKED_FAILURES:
                self._failures.pop(next(iter(self._failures)))
            self._failures[key] = attempts
            log.warning(
                "inbound.store_failed", line=line_name, attempts=attempts,
                quarantine_after=self._quarantine_after, error=type(error).__name__,
            )
            raise MessageRefusedError(
                f"the store refused a message ({type(error).__name__}), attempt {attempts} of"
                f" {self._quarantine_after} before quarantine"
            ) from error
        # An SMPP delivery is kept as its deliver_sm body, which `pdu decode` does not read.
        kind = "SMPP deliver_sm body; " if isinstance(item, SmppInbound) else ""
        try:
            entry = await self._store.quarantine.add(
                line_id, raw, f"{kind}{type(error).__name__}: {error}", attempts=attempts,
                now=self._clock(),
            )
        except BaseException:
            self._failures[key] = attempts
            raise
        # The error's text can hold the message's words: only its kind is logged.
        log.error(
            "inbound.quarantined", line=line_name, quarantine_id=entry.id, attempts=attempts,
            error=type(error).__name__,
        )

    def _forget(self, line_id: int, items: Sequence[InboundItem | SmppInbound]) -> None:
        if self._failures:
            for item in items:
                self._failures.pop((line_id, pdu_hash(_raw(item))), None)

    async def _store_messages(
        self, line_name: str, line_id: int, items: Sequence[InboundItem]
    ) -> None:
        parts: list[InboundPart] = []
        reports: list[StatusReport] = []
        for item in items:
            decoded = decode_inbound(item.pdu)
            if isinstance(decoded, InboundPart):
                parts.append(decoded)
            elif isinstance(decoded, StatusReport):
                reports.append(decoded)  # a report stored in SM memory by some modems
            else:
                # A copy of a message sent from this SIM: not a customer's text.
                log.info("inbound.skipped_submit", line=line_name)
        if parts:
            result = await self._store.inbound.record_inbound(line_id, parts, now=self._clock())
            self._publisher.publish(result.events)
            if any(m.status == "receiving" for m in result.messages):
                self._partial_arrived.set()
            log.info(
                "inbound.committed",
                line=line_name,
                new_parts=result.new_parts,
                duplicate_parts=result.duplicate_parts,
                message_ids=[m.id for m in result.messages],
            )
        for report in reports:
            await self._apply_report(line_name, line_id, report)

    async def smpp_sink(self, line_name: str, items: Sequence[SmppInbound], /) -> None:
        """deliver_sm / data_sm of an SMPP line, committed before they are acknowledged; a
        delivery the store refuses is quarantined like a modem's (see _guarded)."""
        await self._guarded(line_name, items, self._store_deliveries)

    async def _store_deliveries(
        self, line_name: str, line_id: int, items: Sequence[SmppInbound]
    ) -> None:
        now = self._clock()
        parts = [InboundPart(
            pdu=item.raw, sender=item.sender, scts=item.received_at or now,
            encoding=item.encoding, text=item.text,
            user_data=item.user_data, concat=item.concat,
            placeholder_reason=item.placeholder_reason,
            sender_ton=item.sender_ton, sender_npi=item.sender_npi,
        ) for item in items]
        result = await self._store.inbound.record_inbound(
            line_id, parts, now=now, redelivery_window_s=self._redelivery_window_s
        )
        self._publisher.publish(result.events)
        if any(m.status == "receiving" for m in result.messages):
            self._partial_arrived.set()
        log.info("inbound.committed", line=line_name, new_parts=result.new_parts,
                 duplicate_parts=result.duplicate_parts,
                 message_ids=[m.id for m in result.messages])

    async def receipt_sink(self, line_name: str, receipt: SmppReceipt, /) -> bool:
        """An SMPP delivery receipt: the part's final state, by the SMSC's message id. False
        when no sent part of this line has that id (yet: see gateway.smpp.line)."""
        status = _RECEIPT_STATUS.get(receipt.outcome)
        if status is None:
            log.debug("receipt.pending", line=line_name, smsc_message_id=receipt.message_id,
                      stat=receipt.stat)
            return True
        update = await self._store.outbound.apply_receipt(
            self._line_ids[line_name], receipt.message_id, status, now=self._clock(),
            error=receipt.error,
        )
        if update is None:
            log.info("receipt.unmatched", line=line_name, smsc_message_id=receipt.message_id,
                     stat=receipt.stat)
            return False
        self._publisher.publish([update.event])
        return True

    async def _store_reports(
        self, line_name: str, line_id: int, items: Sequence[InboundItem]
    ) -> None:
        for item in items:
            decoded = decode_inbound(item.pdu)
            if isinstance(decoded, StatusReport):
                await self._apply_report(line_name, line_id, decoded)
            else:
                log.warning("report.not_a_status_report", line=line_name, pdu=item.pdu)

    async def _apply_report(self, line_name: str, line_id: int, report: StatusReport) -> None:
        status = _REPORT_STATUS.get(report.outcome)
        if status is None:
            log.debug("report.pending", line=line_name, mr=report.mr, st=report.status)
            return
        update = await self._store.outbound.apply_status_report(
            line_id,
            report.mr,
            report.recipient.number,
            status,
            now=self._clock(),
            error=None if status == "delivered" else f"status report: TP-ST {report.status:#04x}",
            window_s=self._report_window_s,
        )
        if update is None:
            log.info("report.unmatched", line=line_name, mr=report.mr, st=report.status)
            return
        self._publisher.publish([update.event])

    async def release_due(self) -> None:
        _messages, events = await self._store.inbound.release_overdue_partials(
            now=self._clock(), timeout_s=self._reassembly_timeout_s
        )
        self._publisher.publish(events)

    async def run_release_loop(self) -> None:
        """Sleeps until the oldest partial message is due, releases it, and repeats."""
        while True:
            self._partial_arrived.clear()
            deadline = await self._store.inbound.next_partial_deadline(self._reassembly_timeout_s)
            if deadline is None:
                await self._partial_arrived.wait()
                continue
            delay = (deadline - self._clock()) / timedelta(seconds=1)
            if delay > 0:
                try:
                    async with asyncio.timeout(delay):
                        await self._partial_arrived.wait()
                    continue  # an earlier deadline may exist now
                except TimeoutError:
                    pass
            await self.release_due()
