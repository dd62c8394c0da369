"""An SMPP line: the ESME side of one account at an operator or aggregator, kept bound.

The counterpart of a modem supervisor: it binds (transceiver, or a transmitter and a receiver),
keeps the bind alive with enquire_link, rebinds with capped backoff after a drop, reports its
state as a LineState (`ready` while bound), hands each inbound deliver_sm / data_sm to the
pipeline's sink and answers it only after the sink returned (committed), and sends the parts a
LineSender gives it with submit_sm. A submit written without a response is reported
unconfirmed (the part becomes `unknown`); throttling answers (ESME_RTHROTTLED,
ESME_RMSGQFUL) make it wait and submit the same part again, which is safe: it was refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal

import structlog

from gateway.modem.errors import LineUnavailableError
from gateway.modem.model import Identity, LineState, LineStatus
from gateway.smpp import codec
from gateway.smpp.codec import Pdu, SmppError
from gateway.smpp.connection import (
    SmppConnection,
    SmppConnectionLostError,
    SmppResponseTimeoutError,
)
from gateway.smpp.errors import SmppBindError, SmppSubmitError, SmppSubmitUnconfirmedError
from gateway.smpp.messages import (
    DefaultAlphabet,
    LongMessages,
    SmppInbound,
    SmppReceipt,
    inbound_of,
    is_receipt,
    receipt_of,
    source_params,
    submit_params,
)
from gateway.sms import PduError

log = structlog.get_logger("gateway.smpp.line")

_UNMATCHED = -1  # a receipt sink's "no such part", not a command_status

BindMode = Literal["transceiver", "transmitter_receiver"]
InboundSink = Callable[[str, Sequence[SmppInbound]], Awaitable[None]]
# Returns False when no sent part matches the receipt.
ReceiptSink = Callable[[str, SmppReceipt], Awaitable[bool]]
THROTTLED = "throttled by the SMSC"
# Deliveries that arrive while a commit is under way are committed together, up to this many.
MAX_DELIVERY_BATCH = 100
# A receipt may overtake the commit of its part's `sent`: for a message id this recent, an
# unmatched receipt is refused for now (the SMSC delivers it again) rather than dropped.
RECENT_ID_S = 300.0
MAX_RECENT_IDS = 10_000


@dataclass(frozen=True, slots=True)
class SmppSettings:
    name: str
    host: str
    port: int
    system_id: str
    password: str
    number: str
    system_type: str = ""
    bind: BindMode = "transceiver"
    number_ton: int = 0
    number_npi: int = 1
    throughput_per_s: float = 10.0
    window: int = 10
    enquire_link_s: float = 30.0
    response_timeout_s: float = 10.0
    registered_delivery: bool = True
    tls: bool = False
    default_alphabet: DefaultAlphabet = "gsm7"
    long_messages: LongMessages = "udh"
    connect_timeout_s: float = 10.0
    reconnect_initial_s: float = 1.0
    reconnect_max_s: float = 60.0
    throttle_backoff_s: float = 1.0
    throttle_backoff_max_s: float = 30.0


def _utc_now() -> datetime:
    return datetime.now(UTC)


class SmppLine:
    def __init__(
        self,
        settings: SmppSettings,
        *,
        on_state: Callable[[LineState], None],
        inbound_sink: InboundSink,
        receipt_sink: ReceiptSink,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.settings = settings
        self._on_state = on_state
        self._inbound_sink = inbound_sink
        self._receipt_sink = receipt_sink
        self._clock = clock
        self._tx: SmppConnection | None = None
        self._rx: SmppConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._deliveries: asyncio.Queue[tuple[SmppConnection, Pdu, datetime]] = asyncio.Queue()
        self._delivery_task: asyncio.Task[None] | None = None
        self._stopping = False
        self._send_lock = asyncio.Lock()
        self._next_submit_at = 0.0
        self._recent_ids: OrderedDict[str, float] = OrderedDict()
        self._log = log.bind(line=settings.name)
        self.state = LineState(settings.name, "down", clock(), identity=self._identity(),
                               device=self._device())

    # state ------------------------------------------------------------------------------------

    def _device(self) -> str:
        scheme = "smpps" if self.settings.tls else "smpp"
        return f"{scheme}://{self.settings.system_id}@{self.settings.host}:{self.settings.port}"

    def _identity(self) -> Identity:
        return Identity(manufacturer="SMPP", model=f"SMPP 3.4 {self.settings.bind}",
                        own_number=self.settings.number)

    def _set_state(self, status: LineStatus, last_error: str | None = None) -> None:
        since = self.state.since if status == self.state.status else self._clock()
        self.state = replace(self.state, status=status, since=since, last_error=last_error)
        self._on_state(self.state)

    def _note_error(self, error: str | None) -> None:
        if error != self.state.last_error:
            self.state = replace(self.state, last_error=error)
            self._on_state(self.state)

    @property
    def stopping(self) -> bool:
        return self._stopping

    @property
    def bound(self) -> bool:
        tx, rx = self._tx, self._rx
        return tx is not None and not tx.closed and (rx is None or not rx.closed)

    # lifecycle --------------------------------------------------------------------------------

    async def start(self) -> None:
        self._stopping = False
        self._on_state(self.state)
        loop = asyncio.get_running_loop()
        self._task = loop.create_task(self._run(), name=f"smpp-{self.settings.name}")
        self._delivery_task = loop.create_task(
            self._delivery_loop(), name=f"smpp-{self.settings.name}-deliveries"
        )

    async def stop(self) -> None:
        """Unbind politely (a short wait for unbind_resp), then close."""
        self._stopping = True
        for connection in (self._rx, self._tx):
            if connection is not None and not connection.closed:
                with contextlib.suppress(SmppError, TimeoutError):
                    async with asyncio.timeout(2.0):
                        await connection.request("unbind")
        await self._drop()
        for task in (self._task, self._delivery_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._task = self._delivery_task = None
        self._set_state("down", "stopped")

    async def _drop(self) -> None:
        for connection in (self._rx, self._tx):
            if connection is not None:
                await connection.close()
        self._tx = self._rx = None

    async def _run(self) -> None:
        delay = self.settings.reconnect_initial_s
        failures = 0
        while not self._stopping:
            self._set_state("connecting", self.state.last_error)
            try:
                await self._bind_all()
            except (SmppError, OSError, TimeoutError) as error:
                failures += 1
                reason = str(error) or type(error).__name__
                (self._log.warning if failures == 1 else self._log.debug)(
                    "smpp.bind_failed", error=reason, retry_in_s=delay
                )
                await self._drop()
                self._set_state("down", reason)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.settings.reconnect_max_s)
                continue
            failures = 0
            delay = self.settings.reconnect_initial_s
            self._log.info("smpp.bound", mode=self.settings.bind)
            self._set_state("ready", None)
            reason = await self._keep_alive()
            await self._drop()
            if self.stopping:
                return
            self._log.warning("smpp.connection_lost", error=reason)
            self._set_state("down", reason)
            await asyncio.sleep(self.settings.reconnect_initial_s)

    async def _connect(self, role: str) -> SmppConnection:
        settings = self.settings
        context = ssl.create_default_context() if settings.tls else None
        connection = await SmppConnection.open(
            settings.host, settings.port, self._on_request, ssl=context,
            timeout_s=settings.connect_timeout_s, window=settings.window,
            response_timeout_s=settings.response_timeout_s,
            name=f"{settings.name}-{role}",
        )
        connection.start()
        return connection

    async def _bind(self, connection: SmppConnection, command: str) -> None:
        settings = self.settings
        response = await connection.request(command, {
            "system_id": settings.system_id.encode(), "password": settings.password.encode(),
            "system_type": settings.system_type.encode(), "interface_version": 0x34,
            "addr_ton": 0, "addr_npi": 0, "address_range": b"",
        })
        if response.status != codec.ESME_ROK:
            raise SmppBindError(response.status)

    async def _bind_all(self) -> None:
        if self.settings.bind == "transceiver":
            self._tx = await self._connect("trx")
            await self._bind(self._tx, "bind_transceiver")
            return
        self._tx = await self._connect("tx")
        await self._bind(self._tx, "bind_transmitter")
        self._rx = await self._connect("rx")
        await self._bind(self._rx, "bind_receiver")

    async def _keep_alive(self) -> str:
        """enquire_link on every bound connection until one closes or stops answering."""
        connections = [c for c in (self._tx, self._rx) if c is not None]
        interval = self.settings.enquire_link_s
        while True:
            waits = [asyncio.ensure_future(c.wait_closed()) for c in connections]
            try:
                done, _ = await asyncio.wait(waits, timeout=interval,
                                             return_when=asyncio.FIRST_COMPLETED)
            finally:
                for future in waits:
                    future.cancel()
            if done:
                return "the SMSC closed the connection"
            loop = asyncio.get_running_loop()
            for connection in connections:
                if loop.time() - connection.last_received < interval / 2:
                    continue  # traffic seen recently: the link is alive
                try:
                    await connection.request("enquire_link")
                except (SmppResponseTimeoutError, SmppConnectionLostError) as error:
                    return f"enquire_link: {error}"

    # inbound ----------------------------------------------------------------------------------

    async def _on_request(self, connection: SmppConnection, pdu: Pdu) -> None:
        if pdu.command in ("deliver_sm", "data_sm"):
            # Answered by _delivery_loop, after the commit.
            self._deliveries.put_nowait((connection, pdu, self._clock()))
        elif pdu.command == "unbind":
            await connection.respond(pdu)
            self._log.info("smpp.unbound_by_smsc")
            connection.abort()
        else:
            await connection.send(Pdu("generic_nack", pdu.sequence, codec.ESME_RINVCMDID))

    async def _delivery_loop(self) -> None:
        """Commit, then acknowledge: an unacknowledged delivery is redelivered by the SMSC.
        What arrived during one commit goes into the next, as one transaction."""
        while True:
            batch = [await self._deliveries.get()]
            while not self._deliveries.empty() and len(batch) < MAX_DELIVERY_BATCH:
                batch.append(self._deliveries.get_nowait())
            messages = [(c, p, at) for c, p, at in batch if not is_receipt(p)]
            if messages:
                default = self.settings.default_alphabet
                status = await self._commit(
                    self._inbound_sink, self.settings.name,
                    [inbound_of(p, p.body, default, at) for _, p, at in messages],
                )
                for connection, pdu, _ in messages:
                    await self._answer(connection, pdu, status)
            for connection, pdu, _ in batch:
                if is_receipt(pdu):
                    receipt = receipt_of(pdu)
                    status = codec.ESME_ROK
                    if receipt is not None:
                        status = await self._commit(self._receipt_sink, self.settings.name,
                                                    receipt)
                        if status == _UNMATCHED:
                            status = (codec.ESME_RX_T_APPN if self._is_recent(receipt.message_id)
                                      else codec.ESME_ROK)
                    await self._answer(connection, pdu, status)

    def _is_recent(self, message_id: str) -> bool:
        at = self._recent_ids.get(message_id)
        return at is not None and asyncio.get_running_loop().time() - at < RECENT_ID_S

    async def _commit(self, sink: Callable[[str, Any], Awaitable[Any]], *args: Any) -> int:
        try:
            matched = await sink(*args)
        except Exception as error:
            # Not stored: a temporary error makes the SMSC deliver it again later.
            self._log.error("smpp.delivery_not_stored", error=str(error))
            return codec.ESME_RX_T_APPN
        return _UNMATCHED if matched is False else codec.ESME_ROK

    async def _answer(self, connection: SmppConnection, pdu: Pdu, status: int) -> None:
        extra = {"message_id": b""} if pdu.command == "data_sm" else {}
        with contextlib.suppress(SmppError):  # gone: the SMSC will deliver it again
            await connection.respond(pdu, status, extra)

    # outbound ---------------------------------------------------------------------------------

    def can_send(self) -> bool:
        return self.state.status == "ready" and self.bound

    async def send_part(self, pdu: str, tpdu_length: int, /) -> str:
        """submit_sm for one stored part; returns the SMSC's message id."""
        settings = self.settings
        try:
            submit = submit_params(pdu, settings.long_messages)
        except PduError as error:
            raise SmppSubmitError(codec.ESME_RINVMSGLEN, detail=error.reason) from error
        params: dict[str, Any] = {
            **submit,
            **source_params(settings.number, settings.number_ton, settings.number_npi),
            "registered_delivery": codec.RECEIPT_FINAL if settings.registered_delivery else 0,
        }
        backoff = settings.throttle_backoff_s
        async with self._send_lock:
            while True:
                connection = self._tx
                if connection is None or connection.closed or not self.bound:
                    raise LineUnavailableError(settings.name, self.state.status, "not bound")
                await self._pace()
                try:
                    response = await connection.request("submit_sm", params)
                except SmppResponseTimeoutError as error:
                    raise SmppSubmitUnconfirmedError(
                        str(error), recent_traffic=tuple(connection.recent)
                    ) from error
                except SmppConnectionLostError as error:
                    if not error.written:
                        raise LineUnavailableError(settings.name, "down", str(error)) from error
                    raise SmppSubmitUnconfirmedError(
                        f"connection lost before submit_sm_resp: {error}",
                        recent_traffic=tuple(connection.recent),
                    ) from error
                if response.status == codec.ESME_ROK and response.command == "submit_sm_resp":
                    if self.state.last_error == THROTTLED:
                        self._note_error(None)
                    message_id = response.text_param("message_id")
                    self._recent_ids[message_id] = asyncio.get_running_loop().time()
                    while len(self._recent_ids) > MAX_RECENT_IDS:
                        self._recent_ids.popitem(last=False)
                    return message_id
                if response.status in (codec.ESME_RTHROTTLED, codec.ESME_RMSGQFUL):
                    self._log.info("smpp.throttled", status=codec.status_name(response.status),
                                   wait_s=backoff)
                    self._note_error(THROTTLED)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, settings.throttle_backoff_max_s)
                    continue
                raise SmppSubmitError(response.status or codec.ESME_RSYSERR,
                                      response.command.removesuffix("_resp"))

    async def _pace(self) -> None:
        """At most throughput_per_s submits a second, as the account allows."""
        if self.settings.throughput_per_s <= 0:
            return
        loop = asyncio.get_running_loop()
        wait = self._next_submit_at - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        self._next_submit_at = max(loop.time(), self._next_submit_at) + (
            1.0 / self.settings.throughput_per_s
        )
