"""ModemSupervisor: one per modem. Owns the line's state and (re)connection: init, health (URCs, a
slow poll, silence), reboot detection, reconnection with capped exponential backoff; and runs the
modem side of the message pipeline (gateway.modem.inbound) and the sends.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

import structlog

from gateway.backoff import Backoff, Retries
from gateway.modem.driver import ModemDriver, Opener, serial_opener
from gateway.modem.errors import (
    CommandError,
    CommandTimeoutError,
    ConnectionLostError,
    LineUnavailableError,
    ModemError,
    ModemSilentError,
    PinError,
    SimError,
    SubmitUnconfirmedError,
)
from gateway.modem.framer import Urc
from gateway.modem.inbound import Inbound
from gateway.modem.initialise import Initialiser, ModemSetup
from gateway.modem.model import (
    Identity,
    InboundSink,
    LineState,
    LineStatus,
    ReportSink,
    StateCallback,
)
from gateway.modem.responses import (
    parse_creg,
    parse_csq,
    value_of,
)
from gateway.modem.settings import ModemSettings

log = structlog.get_logger("gateway.modem")

# URCs after which the modem certainly lost its settings (it restarted or the SIM was re-inserted).
REBOOT_URCS = frozenset({"RDY", "+CPIN", "^SYSSTART"})
# URCs that some modems also send in normal operation (Huawei repeats ^BOOT): verify first.
MAYBE_REBOOT_URCS = frozenset(
    {"^BOOT", "SMS READY", "CALL READY", "PB DONE", "+CFUN", "+QUSIM", "+WIND", "+QIND"}
)
UNREGISTERED = frozenset({"not_registered", "searching", "denied"})


class _Rebooted(Exception):
    """The modem restarted under us and must be initialised again."""


class ModemSupervisor:
    def __init__(
        self,
        settings: ModemSettings,
        *,
        inbound_sink: InboundSink,
        report_sink: ReportSink,
        on_state: StateCallback | None = None,
        opener: Opener | None = None,
    ) -> None:
        if opener is None:
            if settings.device is None:
                raise ValueError(f"modem {settings.name!r} has neither a device nor an opener")
            opener = serial_opener(settings.device, settings.baud)
        self.settings = settings
        self._opener = opener
        self._on_state = on_state
        self._log = log.bind(line=settings.name)
        self._inbound = Inbound(
            settings,
            inbound_sink=inbound_sink,
            report_sink=report_sink,
            on_sink_error=lambda error: self._update(last_error=error),
            log=self._log,
        )
        self._state = LineState(
            name=settings.name, status="down", since=_now(), device=settings.device
        )
        self._initialiser = Initialiser(settings)
        self._setup = ModemSetup()
        self._driver: ModemDriver | None = None
        self._task: asyncio.Task[None] | None = None
        self._reached_ready = False
        self._stopping = False
        self._send_lock = asyncio.Lock()
        self._last_send = float("-inf")
        self._probe_now = asyncio.Event()
        self._waiters: list[tuple[Callable[[LineState], bool], asyncio.Future[LineState]]] = []

    # public

    @property
    def state(self) -> LineState:
        return self._state

    @property
    def identity(self) -> Identity:
        return self._state.identity

    async def start(self) -> None:
        if self._task is not None:
            raise RuntimeError(f"modem {self.settings.name!r} already started")
        self._stopping = False
        self._task = asyncio.get_running_loop().create_task(
            self._run(), name=f"modem-{self.settings.name}"
        )

    async def stop(self) -> None:
        """Stop cleanly: no new sends; an in-flight send completes or fails; the port closes."""
        self._stopping = True
        task, self._task = self._task, None
        if task is None:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.settings.stop_timeout_s), self._send_lock:
                pass
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        self._update(status="down")

    async def wait_for_state(
        self, predicate: Callable[[LineState], bool], timeout_s: float | None = None
    ) -> LineState:
        """Wait until the line's state satisfies `predicate` (checked on every change)."""
        if predicate(self._state):
            return self._state
        future: asyncio.Future[LineState] = asyncio.get_running_loop().create_future()
        waiter = (predicate, future)
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(timeout_s):
                return await future
        finally:
            self._waiters.remove(waiter)

    async def send_part(self, pdu_hex: str, tpdu_length: int) -> int:
        """Send one PDU (AT+CMGS); returns TP-MR.

        Raises LineUnavailableError when the line cannot send now (nothing was sent), CmsError
        (.retryable), CommandTimeoutError (no prompt: nothing was sent), or
        SubmitUnconfirmedError (the PDU went out unconfirmed: do not resend silently).
        """
        self._ready_driver()
        async with self._send_lock:
            wait_s = self._last_send + self.settings.min_send_interval_s - _loop_time()
            if wait_s > 0:
                await asyncio.sleep(wait_s)
            driver = self._ready_driver()
            try:
                return await driver.send_pdu(pdu_hex, tpdu_length)
            except CommandTimeoutError as error:
                if not isinstance(error, SubmitUnconfirmedError):
                    self._probe_now.set()  # a missing prompt may mean a hung modem
                raise
            finally:
                self._last_send = _loop_time()

    # connection loop

    async def _run(self) -> None:
        settings = self.settings
        retries = Retries(Backoff(settings.reconnect_initial_s, settings.reconnect_max_s))
        while True:
            self._update(status="connecting")
            self._reached_ready = False
            status: LineStatus = "down"
            error: BaseException
            try:
                driver = await ModemDriver.open(
                    self._opener,
                    name=settings.name,
                    open_timeout_s=settings.open_timeout_s,
                    command_timeout_s=settings.command_timeout_s,
                    send_timeout_s=settings.send_timeout_s,
                    prompt_timeout_s=settings.prompt_timeout_s,
                    list_timeout_s=settings.list_timeout_s,
                    settle_s=settings.settle_s,
                )
            except Exception as open_error:
                error = open_error
            else:
                driver.protocol.redact_pdus = not settings.log_message_text
                try:
                    await self._session(driver)
                    raise ConnectionLostError("session ended")  # pragma: no cover
                except PinError as pin_error:
                    status, error = "pin_error", pin_error
                except SimError as sim_error:
                    status, error = "sim_error", sim_error
                except Exception as session_error:
                    error = session_error
                finally:
                    self._driver = None
                    await _close(driver)
            if self._reached_ready:
                retries.reset()
            delay = retries.next_delay_s()
            self._report_failure(error, retries.failures, delay)
            self._update(status=status, last_error=_describe(error))
            if status == "pin_error":
                # Retrying could lock the SIM (PUK); an administrator has to act.
                await asyncio.Event().wait()
            await asyncio.sleep(delay)

    def _report_failure(self, error: BaseException, failures: int, delay_s: float) -> None:
        traffic = error.recent_traffic if isinstance(error, ModemError) else ()
        fields: dict[str, Any] = {
            "error": _describe(error),
            "failures": failures,
            "retry_in_s": delay_s,
        }
        if failures == 1:
            self._log.warning("modem_down", recent_traffic=list(traffic), **fields)
        else:
            self._log.debug("modem_still_down", **fields)

    async def _session(self, driver: ModemDriver) -> None:
        queue: asyncio.Queue[Urc] = asyncio.Queue()
        unsubscribe = driver.subscribe(queue.put_nowait)
        driver.closed.add_done_callback(self._port_closed)
        try:
            while True:
                self._update(status="initialising")
                setup = await self._initialiser.run(
                    driver, on_identity=lambda identity: self._update(identity=identity)
                )
                _drop_reboot_hints(queue)  # they announced the boot we just handled
                self._setup = setup
                self._driver = driver
                self._reached_ready = True
                self._update(
                    status="ready",
                    identity=setup.identity,
                    registration=setup.registration,
                    signal_csq=setup.signal_csq,
                    signal_dbm=setup.signal_dbm,
                    smsc=setup.smsc,
                    last_error=None,
                )
                self._log.info("modem_ready", **dataclasses.asdict(setup.identity))
                try:
                    await self._serve(driver, queue)
                except _Rebooted:
                    self._driver = None
                    self._log.warning("modem_rebooted", action="initialising again")
        finally:
            driver.closed.remove_done_callback(self._port_closed)
            unsubscribe()

    def _port_closed(self, closed: asyncio.Future[BaseException | None]) -> None:
        """Unplugged: say so at once, before the session winds down."""
        self._driver = None
        if self._stopping or closed.cancelled():
            return
        exc = closed.result()
        self._update(status="down", last_error=f"port closed ({exc!r})" if exc else "port closed")

    async def _serve(self, driver: ModemDriver, queue: asyncio.Queue[Urc]) -> None:
        await _first_failure(
            self._urc_loop(driver, queue),
            self._inbound.run(driver, self._setup),
            self._health_loop(driver),
            self._silence_watch(driver),
            self._closed_watch(driver),
        )

    # tasks of a session

    async def _closed_watch(self, driver: ModemDriver) -> None:
        exc = await asyncio.shield(driver.closed)
        raise ConnectionLostError(
            f"port closed ({exc!r})" if exc else "port closed",
            recent_traffic=driver.recent_traffic(),
        )

    async def _silence_watch(self, driver: ModemDriver) -> None:
        limit = self.settings.silence_timeout_s
        while True:
            idle = _loop_time() - driver.last_rx
            if idle >= limit:
                raise ModemSilentError(
                    f"nothing received for {idle:.1f} s", recent_traffic=driver.recent_traffic()
                )
            await asyncio.sleep(limit - idle)

    async def _health_loop(self, driver: ModemDriver) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.settings.health_poll_interval_s):
                    await self._probe_now.wait()
            self._probe_now.clear()
            with contextlib.suppress(CommandError):
                for line in await driver.command("AT+CSQ"):
                    if line.upper().startswith("+CSQ:"):
                        csq, dbm = parse_csq(value_of(line))
                        self._update(signal_csq=csq, signal_dbm=dbm)
            with contextlib.suppress(CommandError):
                for line in await driver.command("AT+CREG?"):
                    if line.upper().startswith("+CREG:"):
                        self._update(registration=parse_creg(value_of(line), solicited=True))
            self._inbound.sweep_wanted.set()  # a lost +CMTI costs at most one poll interval

    async def _urc_loop(self, driver: ModemDriver, queue: asyncio.Queue[Urc]) -> None:
        while True:
            urc = await queue.get()
            prefix = urc.prefix
            if prefix == "+CMTI":
                self._inbound.message_stored(urc)
            elif prefix == "+CDSI":
                self._inbound.report_stored(urc)
            elif prefix == "+CMT" and urc.pdu is not None:
                await self._inbound.routed_message(driver, urc)
            elif prefix == "+CDS" and urc.pdu is not None:
                await self._inbound.routed_report(driver, urc)
            elif prefix == "+CREG":
                self._update(registration=parse_creg(urc.value, solicited=False))
            elif prefix == "^RSSI":
                csq, dbm = parse_csq(urc.value)
                self._update(signal_csq=csq, signal_dbm=dbm)
            elif prefix in REBOOT_URCS:
                raise _Rebooted(urc.text)
            elif prefix in MAYBE_REBOOT_URCS:
                await self._verify_settings(driver, urc)

    async def _verify_settings(self, driver: ModemDriver, urc: Urc) -> None:
        """A URC that may announce a restart: still configured as we left it?"""
        try:
            lines = await driver.command("AT+CNMI?")
        except CommandError as error:
            raise _Rebooted(f"{urc.text}, then {error.result}") from error
        expected = ",".join(str(v) for v in self._setup.cnmi)
        current = next((value_of(x) for x in lines if x.upper().startswith("+CNMI:")), None)
        if current is None or current.replace(" ", "") != expected:
            raise _Rebooted(f"{urc.text}, then +CNMI: {current}")

    # state

    def _ready_driver(self) -> ModemDriver:
        state = self._state
        driver = self._driver
        if self._stopping:
            raise LineUnavailableError(self.settings.name, state.status, "stopping")
        if state.status != "ready" or driver is None or not driver.is_connected:
            raise LineUnavailableError(self.settings.name, state.status, "not ready")
        if state.registration in UNREGISTERED:
            raise LineUnavailableError(
                self.settings.name, state.status, f"not registered ({state.registration})"
            )
        return driver

    def _update(self, **changes: Any) -> None:
        old = self._state
        new = dataclasses.replace(old, **changes)
        if new.status != old.status:
            new = dataclasses.replace(new, since=_now())
        if new == old:
            return
        self._state = new
        if self._on_state is not None:
            try:
                self._on_state(new)
            except Exception:
                self._log.exception("state_callback_failed")
        for predicate, future in self._waiters:
            if not future.done() and predicate(new):
                future.set_result(new)


def _now() -> datetime:
    return datetime.now(UTC)


def _loop_time() -> float:
    return asyncio.get_running_loop().time()


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def _drop_reboot_hints(queue: asyncio.Queue[Urc]) -> None:
    kept: list[Urc] = []
    while not queue.empty():
        urc = queue.get_nowait()
        if urc.prefix not in REBOOT_URCS and urc.prefix not in MAYBE_REBOOT_URCS:
            kept.append(urc)
    for urc in kept:
        queue.put_nowait(urc)


async def _close(driver: ModemDriver) -> None:
    """Close the port even if we are being cancelled meanwhile (no descriptor left open)."""
    closing = asyncio.get_running_loop().create_task(driver.close())
    try:
        await asyncio.shield(closing)
    except asyncio.CancelledError:
        await closing
        raise


async def _first_failure(*coroutines: Coroutine[Any, Any, None]) -> None:
    """Run the coroutines together until one of them raises; then cancel the rest and re-raise."""
    tasks = [asyncio.get_running_loop().create_task(c) for c in coroutines]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            task.result()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
