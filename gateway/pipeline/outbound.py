"""Outbound: one sender per line moves committed parts through AT+CMGS, one at a time.

Each part is committed as `sending` before its AT+CMGS, and its outcome is committed after:
`sent` with its TP-MR, back to `queued` with a backoff for a retryable failure, `failed` for a
final one, and `unknown` when the PDU went out but the modem never confirmed it, because
sending it again might put a second copy on a person's phone. Nothing here ever creates a
message: only an agent's Send does.

When a part is sent and another is due, its `sent` and the next part's `sending` are committed
together (one commit of the store's group, see gateway.store.worker) before that next
AT+CMGS: the order of every part's own commits is unchanged, and a line waits for one commit
between two sends instead of two.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import structlog

from gateway.backoff import Backoff, Retries
from gateway.bus import Publisher
from gateway.modem.errors import (
    CmsError,
    LineUnavailableError,
    ModemError,
    SubmitUnconfirmedError,
)
from gateway.store import ConflictError, Part, PartUpdate, Store, StoreUnavailableError
from gateway.store.claims import LeaseLostError, LineOwner, PartNotClaimedError

log = structlog.get_logger("gateway.pipeline.outbound")

# How long a sender with nothing due sleeps before looking again (it is woken on every Send).
IDLE_CHECK_S = 30.0
# A commit the database refused is retried after `inbound.db_retry_interval_s`, doubling to this.
STORE_RETRY_MAX_S = 30.0

# A part's hex PDU and TPDU length -> the modem's TP-MR, or the message id an SMPP SMSC gave.
SendPart = Callable[[str, int], Awaitable[int | str]]
Clock = Callable[[], datetime]


# What a +CMS ERROR means for the agent who wrote the message (TS 24.011 RP-cause, TS 27.005).
_CMS_REASONS = {
    1: "the network says this number is not in use",
    8: "the operator has barred this number",
    10: "the network refused it (call barred)",
    21: "the network refused the message",
    27: "the recipient's phone is out of service",
    28: "the network cannot read this number",
    29: "the network refused it (facility rejected)",
    30: "the network does not know this recipient",
    50: "this SIM may not send messages",
    96: "the network found the message malformed",
    304: "the modem found the message malformed",
    330: "the SIM has no message centre number set",
}


def cms_reason(code: int | None) -> str:
    """A +CMS ERROR as a sentence an agent can act on, with the code for an administrator."""
    if code is None:
        return "the modem refused the message (+CMS ERROR)"
    sentence = _CMS_REASONS.get(code, "the modem or network refused the message")
    return f"{sentence} (+CMS ERROR: {code})"


class LineSender:
    def __init__(
        self,
        *,
        line_id: int,
        line_name: str,
        store: Store,
        publisher: Publisher,
        send_part: SendPart,
        can_send: Callable[[], bool],
        retry_limit: int,
        retry_backoff_s: float,
        retry_backoff_max_s: float,
        idle_check_s: float = IDLE_CHECK_S,
        clock: Clock,
        store_retry_initial_s: float,
        store_retry_max_s: float = STORE_RETRY_MAX_S,
        owner: LineOwner | None = None,
    ) -> None:
        self.line_id = line_id
        self.line_name = line_name
        self._store = store
        self._publisher = publisher
        self._send_part = send_part
        self._can_send = can_send
        self._retry_limit = retry_limit
        self._retry_backoff = Backoff(retry_backoff_s, retry_backoff_max_s)
        self._idle_check_s = idle_check_s
        self._clock = clock
        self._store_retry = Backoff(store_retry_initial_s, store_retry_max_s)
        self._owner = owner  # in a cluster: parts are claimed under this node's lease
        self._wake = asyncio.Event()
        self._stopping = False
        self._log = log.bind(line=line_name)

    def wake(self) -> None:
        """Something changed: a part was queued, or the line came up."""
        self._wake.set()

    def stop(self) -> None:
        """Finish the part in flight, then return from `run` instead of starting another."""
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            sent_any = False
            if self._can_send():
                sent_any = await self._send_due()
            if sent_any or self._stopping:
                continue
            await self._sleep_until_next()

    async def _sleep_until_next(self) -> None:
        timeout = self._idle_check_s
        if self._can_send():
            retry_at = await self._store.outbound.next_retry_at(self.line_id)
            if retry_at is not None:
                until = (retry_at - self._clock()) / timedelta(seconds=1)
                timeout = max(0.0, min(timeout, until))
        try:
            async with asyncio.timeout(timeout):
                await self._wake.wait()
        except TimeoutError:
            pass

    async def _send_due(self) -> bool:
        parts = await self._store.outbound.due_parts(self.line_id, now=self._clock())
        started: PartUpdate | None = None  # the part committed as sending, not yet sent
        for index, part in enumerate(parts):
            if started is None:
                if self._stopping or not self._can_send():
                    return True
                try:
                    started = await self._store.outbound.mark_part_sending(
                        part.id, now=self._clock(), owner=self._owner
                    )
                except PartNotClaimedError:
                    continue  # another sender has it: a line claimed twice, only one sends
                except LeaseLostError as error:
                    self._log.warning("outbound.lease_lost", error=str(error))
                    return True
                self._publisher.publish([started.event])
            following = parts[index + 1] if index + 1 < len(parts) else None
            started = await self._transmit(part, started, following)
        return bool(parts)

    async def _transmit(
        self, part: Part, update: PartUpdate, following: Part | None
    ) -> PartUpdate | None:
        """AT+CMGS for a part already committed as sending, and its outcome committed. On
        success `following` is committed as sending together with this part's `sent`, unless
        the sender should stop; returns its update then."""
        attempt = update.part.attempts
        log_part = self._log.bind(message_id=part.message_id, part_id=part.id, seq=part.seq)
        outbound = self._store.outbound
        if self._owner is not None and not self._can_send():
            # The node's lease on the line lapsed since the part was claimed: not sent, and
            # another node may own the line now (it marks what is left `sending` unknown).
            now = self._clock()
            with contextlib.suppress(ConflictError):
                await self._settle(
                    lambda: outbound.mark_part_retry(part.id, "the line's lease lapsed", now, now)
                )
            return None
        try:
            mr = await self._send_part(part.pdu, part.tpdu_length or len(part.pdu) // 2 - 1)
        except SubmitUnconfirmedError as error:
            reason = ("the modem took it but never confirmed sending it: it may or may not have"
                      " gone, so it is not sent again by itself")
            log_part.warning("outbound.unconfirmed", error=str(error), reason=reason)
            await self._settle(lambda: outbound.mark_part_unknown(part.id, reason, self._clock()))
        except CmsError as error:
            reason = cms_reason(error.code)
            if error.retryable and attempt <= self._retry_limit:
                await self._retry(part, attempt, reason)
            else:
                log_part.warning("outbound.failed", reason=reason, attempts=attempt)
                await self._fail(part, reason)
        except LineUnavailableError as error:
            # Nothing reached the modem: the part waits for the line.
            self._log.info("outbound.line_unavailable", part_id=part.id, error=str(error))
            reason = f"line {self.line_name} is not connected: it waits until the line is back"
            now = self._clock()
            await self._settle(lambda: outbound.mark_part_retry(part.id, reason, now, now))
        except ModemError as error:
            # No prompt, ERROR, or the port went away before the PDU was written: not sent.
            self._log.info("outbound.modem_error", part_id=part.id, error=str(error))
            reason = f"the modem on line {self.line_name} did not take it"
            if attempt <= self._retry_limit:
                await self._retry(part, attempt, reason)
            else:
                log_part.warning("outbound.failed", reason=reason, attempts=attempt)
                await self._fail(part, reason)
        else:
            log_part.info("outbound.sent", mr=mr)
            sent = self._settle(lambda: outbound.mark_part_sent(part.id, mr, self._clock()))
            if following is None or self._stopping or not self._can_send():
                await sent
                return None
            next_sending = outbound.mark_part_sending(
                following.id, now=self._clock(), owner=self._owner
            )
            settled, started = await asyncio.gather(sent, next_sending, return_exceptions=True)
            if isinstance(settled, BaseException):
                raise settled
            if isinstance(started, PartUpdate):
                self._publisher.publish([started.event])
                return started
            # Not started (e.g. the database failed just then): it is marked on its own next.
            self._log.debug("outbound.next_not_started", part_id=following.id,
                            error=repr(started))
        return None

    async def _fail(self, part: Part, reason: str) -> None:
        await self._settle(
            lambda: self._store.outbound.mark_part_failed(part.id, reason, self._clock())
        )

    async def _retry(self, part: Part, attempt: int, reason: str) -> None:
        delay = self._retry_backoff.delay_s(attempt)
        now = self._clock()
        self._log.info("outbound.retry", part_id=part.id, attempt=attempt, delay_s=delay,
                       reason=reason)
        retry_at = now + timedelta(seconds=delay)
        await self._settle(
            lambda: self._store.outbound.mark_part_retry(part.id, reason, retry_at, now)
        )

    async def _settle(self, commit: Callable[[], Awaitable[PartUpdate]]) -> None:
        """Commit a part's outcome. The modem has already acted, so a database that cannot be
        written is retried until it can: the outcome must not be lost."""
        retries = Retries(self._store_retry)
        while True:
            try:
                update = await commit()
                break
            except StoreUnavailableError as error:
                delay = retries.next_delay_s()
                self._log.error("outbound.store_unavailable", error=str(error), retry_in_s=delay)
                await asyncio.sleep(delay)
        self._publisher.publish([update.event])
