"""The init sequence of a freshly opened or rebooted modem, tolerant of the quirks of real devices.

ESC, AT, ATE0, +CMEE=1, identification, SIM PIN (never retried into a PUK lock), PDU mode,
+CPMS chosen from what the modem offers, +CNMI for immediate +CMTI and routed status reports,
+CSCA, +CREG=2, +CSQ. +CME ERROR 515/14 (busy) is retried for a while after start.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import structlog

from gateway.modem.cpin import CME_PUK_REQUIRED, is_busy, read_sim_state
from gateway.modem.driver import ModemDriver
from gateway.modem.errors import (
    CmeError,
    CommandError,
    CommandTimeoutError,
    PinError,
    SimError,
)
from gateway.modem.model import Identity, Registration
from gateway.modem.responses import (
    parse_cnum,
    parse_cpms_options,
    parse_creg,
    parse_csca,
    parse_csq,
    parse_digits,
    parse_identification,
    parse_ranges,
    value_of,
)
from gateway.modem.settings import ModemSettings

T = TypeVar("T")

CME_INCORRECT_PASSWORD = 16
# Memories preferred for reading and receiving: the SIM's keeps messages with the line's identity.
MEMORY_PREFERENCE = ("SM", "MT", "ME")
NON_MESSAGE_MEMORIES = frozenset({"SR", "BM"})  # status reports, cell broadcast
ICCID_COMMANDS = ("AT+CCID", "AT^ICCID?", "AT+CICCID", "AT+QCCID", "AT+ICCID")

log = structlog.get_logger("gateway.modem")


@dataclass(slots=True)
class ModemSetup:
    """What init learned and chose; the supervisor keeps it for the session."""

    identity: Identity = field(default_factory=Identity)
    storage: tuple[str, ...] = ("SM",)  # the +CPMS arguments in use; [0] is read/delete memory
    other_memories: tuple[str, ...] = ()  # more message memories to sweep (e.g. ME)
    readable_memories: tuple[str, ...] = ("SM",)  # every <mem1> the modem offers
    cnmi: tuple[int, ...] = ()
    reports_routed: bool = False  # +CDS (routed) rather than +CDSI (stored in SR)
    acknowledge: bool = False  # +CSMS=1 took: +CMT/+CDS need +CNMA
    smsc: str | None = None
    registration: Registration = "unknown"
    signal_csq: int | None = None
    signal_dbm: int | None = None


class Initialiser:
    """Runs the init sequence on one driver; `pin_rejected` survives between sessions."""

    def __init__(self, settings: ModemSettings, *, pin_rejected: bool = False) -> None:
        self.settings = settings
        self.pin_rejected = pin_rejected
        self._busy_until = 0.0
        self._log = log.bind(line=settings.name)

    async def run(
        self, driver: ModemDriver, on_identity: Callable[[Identity], None] | None = None
    ) -> ModemSetup:
        setup = ModemSetup()
        loop = asyncio.get_running_loop()
        self._busy_until = loop.time() + self.settings.busy_retry_window_s
        await driver.escape()
        await self._first_at(driver)
        await self._cmd(driver, "ATE0")
        await self._cmd(driver, "AT+CMEE=1")
        identity = Identity(
            manufacturer=await self._optional_ident(driver, "AT+CGMI"),
            model=await self._optional_ident(driver, "AT+CGMM"),
            revision=await self._optional_ident(driver, "AT+CGMR"),
            imei=parse_digits(await self._optional(driver, "AT+CGSN"), min_length=14),
        )
        await self._unlock_sim(driver)
        identity = Identity(
            manufacturer=identity.manufacturer,
            model=identity.model,
            revision=identity.revision,
            imei=identity.imei,
            imsi=parse_digits(await self._optional(driver, "AT+CIMI"), min_length=6),
            iccid=await self._iccid(driver),
            own_number=parse_cnum(await self._optional(driver, "AT+CNUM")),
        )
        setup.identity = identity
        if on_identity is not None:
            on_identity(identity)
        await self._cmd(driver, "AT+CMGF=0")
        await self._select_storage(driver, setup)
        await self._configure_routing(driver, setup)
        await self._configure_smsc(driver, setup)
        try:
            await self._cmd(driver, "AT+CREG=2")
        except CommandError:
            await self._optional(driver, "AT+CREG=1")
        for line in await self._optional(driver, "AT+CREG?"):
            if line.upper().startswith("+CREG:"):
                setup.registration = parse_creg(value_of(line), solicited=True)
        for line in await self._optional(driver, "AT+CSQ"):
            if line.upper().startswith("+CSQ:"):
                setup.signal_csq, setup.signal_dbm = parse_csq(value_of(line))
        return setup

    # steps

    async def _first_at(self, driver: ModemDriver) -> None:
        # The ESC or a previous owner may leave junk that makes the first AT fail, and a modem
        # that is still booting does not answer at all: retry for a while.
        loop = asyncio.get_running_loop()
        attempt = 0
        while True:
            attempt += 1
            try:
                await driver.command("AT")
                return
            except (CommandError, CommandTimeoutError):
                if attempt >= 3 and loop.time() >= self._busy_until:
                    raise
                await asyncio.sleep(self.settings.busy_retry_interval_s)

    async def _unlock_sim(self, driver: ModemDriver) -> None:
        code = await self._cpin(driver)
        if code == "READY":
            return
        if code in ("SIM PIN", "SIM PIN REQUIRED"):
            pin = self.settings.pin
            if pin is None:
                raise PinError("the SIM needs a PIN and none is configured")
            if self.pin_rejected:
                raise PinError("the configured PIN was rejected before; not trying it again")
            try:
                await self._cmd(driver, f'AT+CPIN="{pin}"')
            except CmeError as error:
                if error.code == CME_PUK_REQUIRED:
                    raise PinError("the SIM is PUK-locked", puk_required=True) from error
                # Whatever else went wrong, a second try could burn the last attempt.
                self.pin_rejected = True
                raise PinError(f"the SIM rejected the configured PIN ({error.result})") from error
            code = await self._cpin_after_pin(driver)
            if code == "READY":
                return
        if code is not None and "PUK" in code:
            raise PinError(f"the SIM needs {code}", puk_required=True)
        if code is not None and "PIN" in code:
            raise PinError(f"the SIM needs {code}")
        raise SimError(f"the SIM is not usable (+CPIN: {code})")

    async def _cpin(self, driver: ModemDriver) -> str | None:
        return await read_sim_state(
            driver,
            retry_interval_s=self.settings.busy_retry_interval_s,
            retry_until=self._busy_until,
            on_busy=self._log_busy,
        )

    async def _cpin_after_pin(self, driver: ModemDriver) -> str | None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.busy_retry_window_s
        while True:
            code = await self._cpin(driver)
            if code == "READY" or loop.time() >= deadline:
                return code
            await asyncio.sleep(self.settings.busy_retry_interval_s)

    async def _iccid(self, driver: ModemDriver) -> str | None:
        for command in ICCID_COMMANDS:
            iccid = parse_digits(await self._optional(driver, command), min_length=18)
            if iccid:
                return iccid
        return None

    async def _select_storage(self, driver: ModemDriver, setup: ModemSetup) -> None:
        options = parse_cpms_options(await self._optional(driver, "AT+CPMS=?"))
        if not options:
            options = [["SM"]]
        chosen = [_prefer(choices) for choices in options[:3]]
        last_error: CommandError | None = None
        for count in range(len(chosen), 0, -1):
            memories = chosen[:count]
            try:
                await self._busy(lambda: driver.select_storage(*memories))  # noqa: B023
            except CommandError as error:
                last_error = error
                continue
            setup.storage = tuple(chosen[:count])
            setup.readable_memories = tuple(options[0])
            setup.other_memories = tuple(
                m
                for m in options[0]
                if m != chosen[0] and m not in NON_MESSAGE_MEMORIES and m != "MT"
            )
            return
        assert last_error is not None
        raise last_error

    async def _configure_routing(self, driver: ModemDriver, setup: ModemSetup) -> None:
        try:
            await self._cmd(driver, "AT+CSMS=1")
            setup.acknowledge = True
        except CommandError:
            setup.acknowledge = False
        ranges: list[frozenset[int]] = []
        for line in await self._optional(driver, "AT+CNMI=?"):
            if line.upper().startswith("+CNMI:"):
                ranges = parse_ranges(value_of(line))
        mode = 2 if len(ranges) < 1 or 2 in ranges[0] else 1
        ds_choices = [1, 2, 0]
        if len(ranges) >= 4:
            ds_choices = [ds for ds in ds_choices if ds in ranges[3]] or [0]
        last_error: CommandError | None = None
        for ds in ds_choices:
            cnmi = (mode, 1, 0, ds, 0)
            try:
                await self._cmd(driver, "AT+CNMI=" + ",".join(str(v) for v in cnmi))
            except CommandError as error:
                last_error = error
                continue
            setup.cnmi = cnmi
            setup.reports_routed = ds == 1
            return
        assert last_error is not None
        raise last_error

    async def _configure_smsc(self, driver: ModemDriver, setup: ModemSetup) -> None:
        if self.settings.smsc:
            number = self.settings.smsc
            kind = 145 if number.startswith("+") else 129
            await self._cmd(driver, f'AT+CSCA="{number}",{kind}')
            setup.smsc = number
            return
        setup.smsc = parse_csca(await self._optional(driver, "AT+CSCA?"))
        if setup.smsc is None:
            self._log.warning("no_smsc", hint="the SIM has no SMSC; set `smsc` for this modem")

    # helpers

    async def _cmd(self, driver: ModemDriver, command: str) -> tuple[str, ...]:
        return await self._busy(lambda: driver.command(command))

    async def _optional(self, driver: ModemDriver, command: str) -> tuple[str, ...]:
        """A command some modems lack: ERROR means no answer, busy is still waited out."""
        try:
            return await self._cmd(driver, command)
        except CommandError:
            return ()

    async def _optional_ident(self, driver: ModemDriver, command: str) -> str | None:
        return parse_identification(await self._optional(driver, command))

    async def _busy(self, operation: Callable[[], Awaitable[T]]) -> T:
        while True:
            try:
                return await operation()
            except CommandError as error:
                if not await self._busy_pause(error):
                    raise

    async def _busy_pause(self, error: CommandError) -> bool:
        """Sleep and return True if `error` is the modem being busy early after start."""
        if not is_busy(error) or asyncio.get_running_loop().time() >= self._busy_until:
            return False
        self._log_busy(error)
        await asyncio.sleep(self.settings.busy_retry_interval_s)
        return True

    def _log_busy(self, error: CommandError) -> None:
        self._log.debug("modem_busy_retrying", command=error.command, result=error.result)


def _prefer(choices: Sequence[str]) -> str:
    for memory in MEMORY_PREFERENCE:
        if memory in choices:
            return memory
    return choices[0] if choices else "SM"
