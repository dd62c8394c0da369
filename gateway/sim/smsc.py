"""A simulated operator SMSC speaking SMPP 3.4 over TCP, on the same simulated network as the
modems: handsets text its short code and the bound ESME gets deliver_sm; the ESME's submit_sm
reaches the handset, and a delivery receipt comes back when it did.

Like a real SMSC it keeps each mobile-originated message until the ESME acknowledged it with
deliver_sm_resp, and delivers it again after an error, a timeout or a dropped connection.
Faults (POST /smsc/faults): drop {}, throttle {times}, no_response {times} (submit_sm taken
and never answered) or {seconds} (nothing answered at all, enquire_link and binds included),
refuse_bind {times}, delay_receipts {seconds}, lose_acks {times} (deliver_sm_resp taken as
never come: the message is delivered again), clear {}.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import ssl
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import structlog

from gateway.sim.faults import FaultError
from gateway.sim.smsc_convert import MoConcat, deliver_params, receipt_params, submit_from_pdu
from gateway.smpp import codec
from gateway.smpp.codec import Pdu, SmppError
from gateway.smpp.connection import SmppConnection
from gateway.sms import PduError, Submit

if TYPE_CHECKING:
    from gateway.sim.network import Part, SimNetwork

log = structlog.get_logger("gateway.sim.smsc")

DEFAULT_NUMBER = "12345"
DEFAULT_SYSTEM_ID = "gateway"
DEFAULT_PASSWORD = "secret"
REDELIVER_AFTER_S = 1.0
DELIVER_WINDOW = 10
RESPONSE_TIMEOUT_S = 5.0
_BINDS = {"bind_transceiver": (True, True), "bind_transmitter": (True, False),
          "bind_receiver": (False, True)}


@dataclass(slots=True)
class _Esme:
    connection: SmppConnection
    transmit: bool = False
    receive: bool = False
    system_id: str = ""


@dataclass(slots=True)
class SmscFaults:
    throttle_times: int = 0
    no_response_times: int = 0
    refuse_bind_times: int = 0
    lose_acks_times: int = 0
    receipt_delay_s: float = 0.0

    def describe(self) -> dict[str, object]:
        return {"throttle_times": self.throttle_times, "lose_acks_times": self.lose_acks_times,
                "no_response_times": self.no_response_times,
                "refuse_bind_times": self.refuse_bind_times,
                "receipt_delay_s": self.receipt_delay_s}


@dataclass(slots=True)
class _Mo:
    params: dict[str, Any]
    attempts: int = 0


class SimSmsc:
    def __init__(
        self,
        network: SimNetwork,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        system_id: str = DEFAULT_SYSTEM_ID,
        password: str = DEFAULT_PASSWORD,
        number: str = DEFAULT_NUMBER,
        redeliver_after_s: float = REDELIVER_AFTER_S,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.network = network
        self.tls = tls
        self.host = host
        self.port = port
        self.system_id = system_id
        self.password = password
        self.number = number
        self.redeliver_after_s = redeliver_after_s
        self.mo_concat: MoConcat = "udh"
        self.faults = SmscFaults()
        self.esmes: list[_Esme] = []
        self.outbox: deque[_Mo] = deque()  # mobile-originated, not yet acknowledged
        self.submitted: dict[str, Submit] = {}
        self.deliveries = 0  # deliver_sm written, redeliveries included
        self._ids = itertools.count(1)
        self._server: asyncio.Server | None = None
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._worker: asyncio.Task[None] | None = None
        self._message_ids: dict[int, tuple[str, datetime]] = {}
        self.mute_until = 0.0  # loop time: `no_response {seconds}` answers nothing till then

    # lifecycle --------------------------------------------------------------------------------

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.host, self.port,
                                                  ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]
        self._worker = asyncio.get_running_loop().create_task(self._deliver_loop(),
                                                              name="smsc-deliver")
        self.network.attach_smsc(self)

    async def stop(self) -> None:
        self.network.detach_smsc(self)
        if self._server is not None:
            self._server.close()
        for esme in list(self.esmes):
            await esme.connection.close()
        for task in [self._worker, *self._tasks]:
            if task is not None:
                task.cancel()
        await asyncio.gather(*(t for t in [self._worker, *self._tasks] if t is not None),
                             return_exceptions=True)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None

    def describe(self) -> dict[str, object]:
        """What `sms-gateway sim --smsc` prints under "smsc"."""
        return {"host": self.host, "port": self.port, "system_id": self.system_id,
                "password": self.password, "number": self.number}

    def status(self) -> dict[str, object]:
        return {**self.describe(), "bound": [
            {"system_id": e.system_id, "transmit": e.transmit, "receive": e.receive}
            for e in self.esmes if e.transmit or e.receive
        ], "waiting_for_ack": len(self.outbox), "deliveries": self.deliveries,
            "submitted": len(self.submitted), "mo_concat": self.mo_concat,
            "faults": self.faults.describe()}

    # faults -----------------------------------------------------------------------------------

    def apply_fault(self, kind: str, params: Mapping[str, object]) -> None:
        def times() -> int:
            value = params.get("times", 1)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise FaultError("times must be a non-negative integer")
            return value

        if kind == "drop":
            for esme in list(self.esmes):
                esme.connection.abort()
        elif kind == "throttle":
            self.faults.throttle_times = times()
        elif kind == "no_response" and "seconds" in params:
            seconds = params["seconds"]
            if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
                raise FaultError("seconds must be a non-negative number")
            self.mute_until = asyncio.get_running_loop().time() + float(seconds)
            for esme in self.esmes:
                esme.connection.mute_until = self.mute_until
        elif kind == "no_response":
            self.faults.no_response_times = times()
        elif kind == "refuse_bind":
            self.faults.refuse_bind_times = times()
        elif kind == "lose_acks":
            self.faults.lose_acks_times = times()
        elif kind == "delay_receipts":
            seconds = params.get("seconds", 5.0)
            if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
                raise FaultError("seconds must be a non-negative number")
            self.faults.receipt_delay_s = float(seconds)
        elif kind == "clear":
            self.faults = SmscFaults()
            self.mute_until = 0.0
            for esme in self.esmes:
                esme.connection.mute_until = 0.0
        else:
            raise FaultError(f"unknown SMSC fault {kind!r}; known: drop, throttle, "
                             "no_response, refuse_bind, delay_receipts, lose_acks, clear")

    def set_mo_concat(self, mode: str) -> None:
        if mode not in ("udh", "sar", "payload"):
            raise FaultError('mo_concat must be "udh", "sar" or "payload"')
        self.mo_concat = mode  # type: ignore[assignment]

    # the ESME side ----------------------------------------------------------------------------

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = SmppConnection(reader, writer, self._on_request, window=DELIVER_WINDOW,
                                    response_timeout_s=RESPONSE_TIMEOUT_S, name="smsc")
        connection.mute_until = self.mute_until
        esme = _Esme(connection)
        self.esmes.append(esme)
        connection.start()
        try:
            await connection.wait_closed()
        finally:
            if esme in self.esmes:
                self.esmes.remove(esme)
            await connection.close()

    def _esme_of(self, connection: SmppConnection) -> _Esme | None:
        return next((e for e in self.esmes if e.connection is connection), None)

    async def _on_request(self, connection: SmppConnection, pdu: Pdu) -> None:
        esme = self._esme_of(connection)
        if esme is None:
            return
        if pdu.command in _BINDS:
            await self._bind(esme, pdu)
        elif not (esme.transmit or esme.receive):
            await connection.respond(pdu, codec.ESME_RINVBNDSTS)
        elif pdu.command == "submit_sm":
            await self._submit(esme, pdu)
        elif pdu.command == "unbind":
            await connection.respond(pdu)
            connection.abort()
        else:
            await connection.send(Pdu("generic_nack", pdu.sequence, codec.ESME_RINVCMDID))

    async def _bind(self, esme: _Esme, pdu: Pdu) -> None:
        status = codec.ESME_ROK
        if esme.transmit or esme.receive:
            status = codec.ESME_RALYBND
        elif self.faults.refuse_bind_times > 0:
            self.faults.refuse_bind_times -= 1
            status = codec.ESME_RBINDFAIL
        elif pdu.text_param("system_id") != self.system_id:
            status = codec.ESME_RINVSYSID
        elif pdu.text_param("password") != self.password:
            status = codec.ESME_RINVPASWD
        params = {"system_id": b"simsmsc"} if status == codec.ESME_ROK else {}
        await esme.connection.respond(pdu, status, params)
        if status == codec.ESME_ROK:
            esme.transmit, esme.receive = _BINDS[pdu.command]
            esme.system_id = pdu.text_param("system_id")
            self._wake.set()

    async def _submit(self, esme: _Esme, pdu: Pdu) -> None:
        if not esme.transmit:
            await esme.connection.respond(pdu, codec.ESME_RINVBNDSTS)
            return
        if self.faults.no_response_times > 0:
            self.faults.no_response_times -= 1
            return  # taken, and never answered: the ESME cannot know whether it went out
        if self.faults.throttle_times > 0:
            self.faults.throttle_times -= 1
            await esme.connection.respond(pdu, codec.ESME_RTHROTTLED)
            return
        try:
            submit = submit_from_pdu(pdu)
        except PduError as error:
            log.info("smsc.submit_refused", error=error.reason)
            await esme.connection.respond(pdu, 0x45)  # ESME_RSUBMITFAIL
            return
        message_id = f"{next(self._ids):08X}"
        self.submitted[message_id] = submit
        await esme.connection.respond(pdu, codec.ESME_ROK, {"message_id": message_id.encode()})
        self._message_ids[id(submit)] = (message_id, self.network.clock())
        self.network.submit_from_esme(self.number, submit)

    # network callbacks ------------------------------------------------------------------------

    def deliver_mo(self, part: Part) -> None:
        """A handset's part to the short code: kept until an ESME acknowledged it."""
        self.outbox.append(_Mo(deliver_params(part.submit, part.sender, self.number,
                                              self.mo_concat)))
        self._wake.set()

    def delivered(self, part: Part) -> None:
        """A part from the ESME reached the handset: its receipt, if one was asked for."""
        known = self._message_ids.pop(id(part.submit), None)
        if known is None or not part.submit.status_report_request:
            return
        message_id, submitted = known
        params = receipt_params(message_id, part.destination, self.number, submitted,
                                self.network.clock())
        self.outbox_later(params, self.faults.receipt_delay_s)

    def outbox_later(self, params: dict[str, Any], delay_s: float) -> None:
        async def later() -> None:
            await asyncio.sleep(delay_s)
            self.outbox.append(_Mo(params))
            self._wake.set()

        task = asyncio.get_running_loop().create_task(later())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # delivery to the ESME ---------------------------------------------------------------------

    async def _deliver_loop(self) -> None:
        """Sends what waits, up to DELIVER_WINDOW at a time, to a bound receiver."""
        in_flight: set[asyncio.Task[None]] = set()
        try:
            await self._deliver_forever(in_flight)
        finally:
            for task in in_flight:
                task.cancel()
            await asyncio.gather(*in_flight, return_exceptions=True)

    async def _deliver_forever(self, in_flight: set[asyncio.Task[None]]) -> None:
        while True:
            receiver = next((e for e in self.esmes if e.receive
                             and not e.connection.closed), None)
            if receiver is None or not self.outbox or len(in_flight) >= DELIVER_WINDOW:
                self._wake.clear()
                wake = asyncio.ensure_future(self._wake.wait())
                try:
                    await asyncio.wait([wake, *in_flight], timeout=self.redeliver_after_s,
                                       return_when=asyncio.FIRST_COMPLETED)
                finally:
                    wake.cancel()
                in_flight -= {t for t in in_flight if t.done()}
                continue
            mo = self.outbox.popleft()
            task = asyncio.get_running_loop().create_task(self._deliver_one(receiver, mo))
            in_flight.add(task)

    async def _deliver_one(self, esme: _Esme, mo: _Mo) -> None:
        mo.attempts += 1
        self.deliveries += 1
        try:
            response = await esme.connection.request("deliver_sm", mo.params)
            if response.status == codec.ESME_ROK and self.faults.lose_acks_times > 0:
                self.faults.lose_acks_times -= 1  # as if the ESME died before answering
                reason = "deliver_sm_resp lost (fault)"
            elif response.status == codec.ESME_ROK:
                return
            else:
                reason = codec.status_name(response.status)
        except (SmppError, TimeoutError) as error:
            reason = str(error)
        log.info("smsc.redeliver", reason=reason, attempts=mo.attempts)
        await asyncio.sleep(self.redeliver_after_s)
        self.outbox.appendleft(mo)
        self._wake.set()
