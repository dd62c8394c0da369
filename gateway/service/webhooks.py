"""Outgoing webhooks: request.created and message.created POSTed, signed, to configured URLs.

Each matching event gets a delivery row per webhook before anything is sent, so a restart
resumes pending deliveries (and records what was logged while the process was down, after the
last event it had recorded for that URL). Attempts run in their own tasks, never in the
workflow's path: the bus listener only wakes the dispatcher. Delivery is at least once; the
event's `seq` in the body lets a receiver drop a repeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import aiohttp

from gateway.backoff import Backoff
from gateway.bus import BusEvent, EventBus
from gateway.config import WebhookConfig
from gateway.log import get_logger
from gateway.store.errors import StoreError, StoreUnavailableError
from gateway.store.events import EventRepository
from gateway.store.store import Store
from gateway.store.webhook_deliveries import WebhookDelivery

log = get_logger(__name__)

TIMESTAMP_HEADER = "X-Gateway-Timestamp"
SIGNATURE_HEADER = "X-Gateway-Signature"
EVENT_HEADER = "X-Gateway-Event"
DELIVERY_HEADER = "X-Gateway-Delivery"
USER_AGENT = "sms-gateway-webhooks"
MAX_IN_FLIGHT = 4
IDLE_POLL_S = 30.0
STORE_RETRY_S = 2.0
MAX_BACKOFF_S = 3600.0
EVENTS_PAGE = 500
# After a long stop, events older than this many are not sent (a warning says so).
MAX_CATCH_UP_EVENTS = 10_000


def webhook_body(delivery: WebhookDelivery) -> bytes:
    """The JSON body, the same bytes on every attempt: {"seq", "type", "created_at", "data"}."""
    return json.dumps(
        {"seq": delivery.event_seq, "type": delivery.event_type,
         "created_at": delivery.event_at.isoformat(), "data": delivery.event_data},
        separators=(",", ":"), ensure_ascii=False,
    ).encode("utf-8")


def retry_backoff(webhook: WebhookConfig) -> Backoff:
    """A failed delivery is tried again after `retry_backoff_s`, doubling, at most
    MAX_BACKOFF_S apart."""
    return Backoff(webhook.retry_backoff_s, MAX_BACKOFF_S)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Hex HMAC-SHA256, keyed with the webhook's secret, over `{timestamp}.{body}`."""
    return hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body,
                    hashlib.sha256).hexdigest()


class WebhookDispatcher:
    def __init__(
        self,
        *,
        store: Store,
        bus: EventBus,
        webhooks: Sequence[WebhookConfig],
        clock: Callable[[], datetime],
    ) -> None:
        self._repo = store.webhook_deliveries
        self._events: EventRepository = store.events
        self._bus = bus
        self._clock = clock
        self._webhooks: dict[str, WebhookConfig] = {}
        for webhook in webhooks:
            if webhook.url in self._webhooks:
                log.warning("webhook listed twice; the first entry is used", url=webhook.url)
                continue
            self._webhooks[webhook.url] = webhook
        self._types = frozenset(t for webhook in self._webhooks.values() for t in webhook.events)
        self._cursors: dict[str, int] | None = None
        self._wake = asyncio.Event()
        self._in_flight: dict[int, asyncio.Task[None]] = {}
        self._finished_during_read: set[int] = set()
        self._failing: set[str] = set()
        self._http: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None
        self._unlisten: Callable[[], None] | None = None

    # -- lifecycle

    async def start(self) -> None:
        if not self._webhooks:
            return
        self._unlisten = self._bus.listen(self._on_event, every_node=True)
        # Where each webhook resumes is settled now, before anything can be logged by this
        # process: an event logged after start is always sent.
        try:
            self._cursors = await self._load_cursors()
        except StoreUnavailableError as error:
            log.warning("webhooks wait for the database", error=str(error))
        self._http = aiohttp.ClientSession(headers={"User-Agent": USER_AGENT})
        self._task = asyncio.create_task(self._run(), name="webhooks")

    async def stop(self) -> None:
        """Stop sending; attempts cut short stay pending and are sent again after a restart."""
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None
        tasks = [t for t in (self._task, *self._in_flight.values()) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._task = None
        self._in_flight.clear()
        if self._http is not None:
            await self._http.close()
            self._http = None

    def _on_event(self, event: BusEvent) -> None:
        if event.type in self._types:
            self._wake.set()

    # -- the loop

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self._record_new()
                await self._start_due()
                delay = await self._idle_delay()
            except StoreUnavailableError as error:
                log.warning("webhooks wait for the database", error=str(error))
                delay = STORE_RETRY_S
            except StoreError as error:
                log.error("webhook deliveries could not be read", error=str(error))
                delay = STORE_RETRY_S
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._wake.wait()

    async def _load_cursors(self) -> dict[str, int]:
        recorded = await self._repo.last_recorded_seq(self._webhooks)
        latest = await self._events.last_seq()
        cursors = {}
        for url in self._webhooks:
            # A webhook never recorded before starts with what happens from now on.
            cursor = recorded.get(url, latest)
            if latest - cursor > MAX_CATCH_UP_EVENTS:
                log.warning("webhook skips events logged too long ago", url=url,
                            skipped=latest - cursor - MAX_CATCH_UP_EVENTS)
                cursor = latest - MAX_CATCH_UP_EVENTS
            cursors[url] = cursor
        return cursors

    async def _record_new(self) -> None:
        """Record a delivery for every matching event logged after each webhook's cursor."""
        if self._cursors is None:
            self._cursors = await self._load_cursors()
        cursors = self._cursors
        low = min(cursors.values())
        while True:
            events = await self._events.since(low, EVENTS_PAGE)
            if not events:
                return
            rows = [
                (event.seq, url)
                for event in events
                for url, webhook in self._webhooks.items()
                if event.type in webhook.events and event.seq > cursors[url]
            ]
            await self._repo.record(rows, self._clock())
            low = events[-1].seq
            for url in cursors:
                cursors[url] = max(cursors[url], low)
            if len(events) < EVENTS_PAGE:
                return

    async def _start_due(self) -> None:
        """Start an attempt for each due delivery, at most MAX_IN_FLIGHT at a time."""
        if len(self._in_flight) >= MAX_IN_FLIGHT:
            return
        # An attempt that finishes while the read runs may be read as still pending.
        self._finished_during_read.clear()
        due = await self._repo.due(self._clock(), MAX_IN_FLIGHT + len(self._in_flight))
        for delivery in due:
            if len(self._in_flight) >= MAX_IN_FLIGHT:
                break
            if delivery.id in self._in_flight or delivery.id in self._finished_during_read:
                continue
            task = asyncio.create_task(self._attempt(delivery), name="webhook-attempt")
            self._in_flight[delivery.id] = task
            task.add_done_callback(functools.partial(self._finished, delivery.id))

    def _finished(self, key: int, _task: asyncio.Task[None]) -> None:
        self._in_flight.pop(key, None)
        self._finished_during_read.add(key)
        self._wake.set()

    async def _idle_delay(self) -> float:
        next_due = await self._repo.next_due_at()
        if next_due is None:
            return IDLE_POLL_S
        wait = (next_due - self._clock()).total_seconds()
        if wait <= 0:
            # Due now and not started: every slot is taken, and a finishing attempt wakes us.
            return IDLE_POLL_S if self._in_flight else 0.0
        return min(wait, IDLE_POLL_S)

    # -- one attempt

    async def _attempt(self, delivery: WebhookDelivery) -> None:
        webhook = self._webhooks.get(delivery.url)
        attempts = delivery.attempts + 1
        try:
            if webhook is None:
                await self._repo.mark_failed(delivery.id, delivery.attempts,
                                             "the webhook is no longer configured")
                return
            error = await self._post(webhook, delivery)
            if error is None:
                await self._repo.mark_delivered(delivery.id, attempts, self._clock())
                self._failing.discard(webhook.url)
                log.info("webhook delivered", url=webhook.url, seq=delivery.event_seq,
                         type=delivery.event_type, attempts=attempts)
            elif attempts > webhook.retry_limit:
                await self._repo.mark_failed(delivery.id, attempts, error)
                log.warning("webhook delivery given up", url=webhook.url,
                            seq=delivery.event_seq, attempts=attempts, error=error)
            else:
                delay_s = retry_backoff(webhook).delay_s(attempts)
                retry_at = self._clock() + timedelta(seconds=delay_s)
                await self._repo.mark_retry(delivery.id, attempts, error, retry_at)
                # The first failure of a run of failures is worth a warning; repeats are noise.
                first = webhook.url not in self._failing
                self._failing.add(webhook.url)
                (log.warning if first else log.debug)(
                    "webhook delivery failed; will retry", url=webhook.url,
                    seq=delivery.event_seq, attempts=attempts, retry_at=retry_at.isoformat(),
                    error=error,
                )
        except StoreError as error:
            # The attempt's outcome is lost; the row is still pending and is tried again.
            log.warning("webhook outcome not stored", delivery_id=delivery.id, error=str(error))

    async def _post(self, webhook: WebhookConfig, delivery: WebhookDelivery) -> str | None:
        """POST the delivery; None when the receiver answered 2xx, else what went wrong."""
        assert self._http is not None
        body = webhook_body(delivery)
        timestamp = str(int(self._clock().timestamp()))
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(webhook.secret, timestamp, body),
            EVENT_HEADER: delivery.event_type,
            DELIVERY_HEADER: str(delivery.id),
        }
        try:
            async with self._http.post(
                webhook.url, data=body, headers=headers, allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=webhook.timeout_s),
            ) as response:
                if 200 <= response.status < 300:
                    return None
                return f"HTTP {response.status}"
        except TimeoutError:
            return f"no answer within {webhook.timeout_s:g} s"
        except (aiohttp.ClientError, OSError) as error:
            return f"{type(error).__name__}: {error}"
        except Exception as error:
            # Not a network failure: a bug. Logged in full, and counted as a failed attempt so
            # the backoff applies instead of a retry at once.
            log.exception("webhook attempt failed unexpectedly", url=webhook.url)
            return f"{type(error).__name__}: {error}"
