"""Probing a serial port: does it answer AT, and if so which modem and SIM are behind it.

A probe only reads: identification, SIM state and identity, signal and registration. It never
enters a PIN, never writes a setting the modem keeps (no AT&W, +CFUN, +CPMS, +CNMI, +CSCA);
the one volatile setting it needs (+CMEE=1, for readable SIM errors) is put back as found. Every
step is bounded by the probe's timeout and the port is always closed.
"""

from __future__ import annotations

import asyncio
import errno
import os
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Literal, TypeVar

import serial
import structlog

from gateway.discovery.ports import is_serial_device, list_candidate_ports
from gateway.modem import (
    CmeError,
    CommandError,
    CommandTimeoutError,
    Identity,
    ModemDriver,
    ModemError,
    PinError,
    Registration,
    SimError,
    serial_opener,
)
from gateway.modem.cpin import BUSY_CME, CME_SIM_NOT_INSERTED, read_sim_state
from gateway.modem.initialise import ICCID_COMMANDS
from gateway.modem.responses import (
    parse_cnum,
    parse_creg,
    parse_csq,
    parse_digits,
    parse_identification,
    value_of,
)

__all__ = [
    "ProbeResult",
    "SimState",
    "is_serial_device",
    "list_candidate_ports",
    "probe_port",
]

T = TypeVar("T")

SimState = Literal["READY", "SIM PIN", "SIM PUK", "not inserted", "error"]

DEFAULT_BAUD = 115200
# One AT command's wait; a probe retries plain AT with it until the probe's timeout.
DEFAULT_COMMAND_TIMEOUT_S = 1.0
AT_ATTEMPT_TIMEOUT_S = 0.5
# Pause between retries while a freshly started modem or SIM says busy / not ready.
BUSY_RETRY_S = 0.2
# How long a late answer to a timed-out command is awaited before the next command.
PROBE_SETTLE_S = 0.05
# Closing never waits on a port that will not drain (a UART with flow control held off).
CLOSE_TIMEOUT_S = 1.0

log = structlog.get_logger("gateway.discovery")


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """What one port said. `device` is the path as given, `resolved` its real path; `identity`
    is what the modem and its SIM said they are, as the supervisor records it."""

    device: str
    resolved: str
    answers_at: bool = False
    identity: Identity = field(default_factory=Identity)
    sim_state: SimState | None = None
    signal_csq: int | None = None
    signal_dbm: int | None = None
    registration: Registration | None = None
    error: str | None = None

    @property
    def identifies_sim(self) -> bool:
        """Whether the SIM said who it is (ICCID, IMSI or own number)."""
        identity = self.identity
        return bool(identity.iccid or identity.imsi or identity.own_number)

    def as_dict(self) -> dict[str, object]:
        """Flat, as `sms-gateway probe --json` and `status` show it: the identity's fields
        beside the port's."""
        fields = asdict(self)
        flat: dict[str, object] = {}
        for key, value in fields.items():
            if key == "identity":
                flat.update(value)
            else:
                flat[key] = value
        return flat

    def describe(self) -> str:
        """One line for a log or an admin: the modem and its SIM, as far as known."""
        if not self.answers_at:
            return f"{self.device}: {self.error or 'no answer to AT'}"
        identity = self.identity
        parts = [" ".join(p for p in (identity.manufacturer, identity.model) if p)
                 or "unknown modem"]
        for label, value in (
            ("IMEI", identity.imei),
            ("SIM", self.sim_state),
            ("ICCID", identity.iccid),
            ("IMSI", identity.imsi),
            ("number", identity.own_number),
        ):
            if value:
                parts.append(f"{label} {value}")
        if self.error:
            parts.append(f"({self.error})")
        return f"{self.device}: " + ", ".join(parts)


@dataclass(slots=True)
class _Findings:
    """What the probe learned so far; kept when the probe's time runs out half way."""

    result: ProbeResult
    step: str = "opening the port"


async def probe_port(
    device: str,
    *,
    baud: int = DEFAULT_BAUD,
    timeout_s: float,
    command_timeout_s: float = DEFAULT_COMMAND_TIMEOUT_S,
) -> ProbeResult:
    """Probe `device`; never raises (but for cancellation) and never takes much over timeout_s."""
    resolved, problem = _check_device(device)
    if problem is not None:
        return ProbeResult(device, resolved, error=problem)
    findings = _Findings(ProbeResult(device, resolved))
    error: str | None = None
    driver: ModemDriver | None = None
    try:
        async with asyncio.timeout(timeout_s):
            driver = await ModemDriver.open(
                serial_opener(device, baud),  # exclusive: a port in use is reported busy
                name=f"probe:{device}",
                open_timeout_s=timeout_s,
                command_timeout_s=command_timeout_s,
                settle_s=PROBE_SETTLE_S,
            )
            await _Probe(driver, findings, command_timeout_s).run()
    except CommandTimeoutError as exc:  # one command unanswered, with time left overall
        error = f"{exc} while {findings.step}"
    except TimeoutError:
        if findings.result.answers_at:
            error = f"timed out after {timeout_s:g} s while {findings.step}"
        elif driver is None:
            error = f"could not open the port within {timeout_s:g} s"
        else:
            error = f"no answer to AT within {timeout_s:g} s"
    except serial.SerialException as exc:
        error = _open_error(exc)
    except ModemError as exc:
        error = str(exc)
    except OSError as exc:
        error = _open_error(exc)
    except Exception as exc:
        # A bug here must not take down a caller probing many ports at once: it is logged
        # and reported as this port's error.
        log.exception("discovery.probe_failed", device=device)
        error = f"probe failed: {exc!r}"
    finally:
        if driver is not None:
            await _close(driver)
    result = findings.result
    if error is not None:
        # A SIM problem already noted stays first: it is what the admin has to fix.
        error = f"{result.error}; {error}" if result.error else error
        result = replace(result, error=error)
    return result


def _check_device(device: str) -> tuple[str, str | None]:
    """(real path, why it cannot be probed or None); /dev lookups do not block."""
    resolved = os.path.realpath(device)
    if not os.path.exists(device):
        return resolved, "no such device"
    if not is_serial_device(device):
        return resolved, "not a serial (character) device"
    return resolved, None


def _open_error(exc: BaseException) -> str:
    text = str(exc)
    if "exclusively lock" in text:
        return "in use by another program (the port is locked)"
    errno_value = getattr(exc, "errno", None)
    if errno_value == errno.EACCES or "Permission denied" in text:
        return "permission denied (is the user in the dialout group?)"
    if errno_value == errno.EPERM or "Operation not permitted" in text:
        return "not permitted (device access is restricted, e.g. by the unit's DeviceAllow=)"
    if errno_value == errno.ENOENT or "No such file" in text:
        return "no such device"
    if errno_value == errno.ENOTTY or "Inappropriate ioctl" in text:
        return "not a serial port (it refuses terminal settings)"
    if errno_value == errno.EBUSY or "Device or resource busy" in text:
        return "in use by another program (device busy)"
    return f"could not open the port: {text}"


async def _close(driver: ModemDriver) -> None:
    # Abort rather than close: nothing written by a probe must be waited for, and a port held
    # off by flow control would otherwise never finish draining.
    transport = driver.protocol.transport
    if transport is not None:
        transport.abort()
    if not driver.closed.done():
        await asyncio.wait([driver.closed], timeout=CLOSE_TIMEOUT_S)


class _Probe:
    """The read-only command sequence, recording into `findings` as it goes."""

    def __init__(self, driver: ModemDriver, findings: _Findings, command_timeout_s: float):
        self.driver = driver
        self.findings = findings
        self.command_timeout_s = command_timeout_s

    async def run(self) -> None:
        findings = self.findings
        await self._first_at()
        findings.step = "reading the error mode"
        cmee = await self._read_cmee()
        if cmee is not None and cmee != 1:
            await self._optional("AT+CMEE=1")  # +CME ERROR codes tell a missing SIM from a PIN
        findings.step = "identifying the modem"
        self._identify(
            manufacturer=parse_identification(await self._optional("AT+CGMI")),
            model=parse_identification(await self._optional("AT+CGMM")),
            revision=parse_identification(await self._optional("AT+CGMR")),
            imei=parse_digits(await self._optional("AT+CGSN"), min_length=14),
        )
        findings.step = "asking for the SIM state"
        sim_state, detail = await self._sim_state()
        findings.result = replace(findings.result, sim_state=sim_state, error=detail)
        findings.step = "reading the SIM"
        if sim_state != "not inserted":
            self._identify(iccid=await self._iccid())
        if sim_state == "READY":
            self._identify(
                imsi=parse_digits(await self._optional("AT+CIMI"), min_length=6),
                own_number=parse_cnum(await self._optional("AT+CNUM")),
            )
        findings.step = "reading signal and registration"
        for line in await self._optional("AT+CSQ"):
            if line.upper().startswith("+CSQ:"):
                csq, dbm = parse_csq(value_of(line))
                findings.result = replace(findings.result, signal_csq=csq, signal_dbm=dbm)
        for line in await self._optional("AT+CREG?"):
            if line.upper().startswith("+CREG:"):
                registration = parse_creg(value_of(line), solicited=True)
                findings.result = replace(findings.result, registration=registration)
        if cmee is not None and cmee != 1:
            findings.step = "restoring the error mode"
            await self._optional(f"AT+CMEE={cmee}")

    async def _first_at(self) -> None:
        # A lone ESC ends a `> ` prompt a previous owner left open; the first AT after it (or
        # after a modem's boot noise) may fail or go unanswered: retry until the probe's time
        # is up. A port that never answers is not a modem (or not its AT port).
        await self.driver.escape()
        while True:
            try:
                await self.driver.command("AT", timeout_s=AT_ATTEMPT_TIMEOUT_S)
            except CommandTimeoutError:
                continue
            except CommandError:
                await asyncio.sleep(BUSY_RETRY_S)
                continue
            self.findings.result = replace(self.findings.result, answers_at=True)
            return

    async def _read_cmee(self) -> int | None:
        for line in await self._optional("AT+CMEE?"):
            if line.upper().startswith("+CMEE:"):
                text = value_of(line)
                return int(text) if text.isdigit() else None
        return None

    def _identify(self, **found: str | None) -> None:
        result = self.findings.result
        self.findings.result = replace(result, identity=replace(result.identity, **found))

    async def _sim_state(self) -> tuple[SimState, str | None]:
        try:
            code = await read_sim_state(self.driver, retry_interval_s=BUSY_RETRY_S,
                                        retry_until=None)  # the probe's timeout bounds it
        except PinError:  # PUK-locked
            return "SIM PUK", None
        except SimError as error:
            if error.cme_code == CME_SIM_NOT_INSERTED:
                return "not inserted", None
            return "error", str(error)
        except CommandError as error:
            return "error", f"AT+CPIN? answered {error.result}"
        if code == "READY":
            return "READY", None
        if code in ("SIM PIN", "SIM PUK"):
            return code, None  # type: ignore[return-value]  # checked just above
        if code is not None and "PUK" in code:
            return "SIM PUK", f"+CPIN: {code}"
        if code is not None and "PIN" in code:
            return "SIM PIN", f"+CPIN: {code}"
        return "error", f"unexpected +CPIN answer: {code}"

    async def _iccid(self) -> str | None:
        for command in ICCID_COMMANDS:
            iccid = parse_digits(await self._optional(command), min_length=18)
            if iccid:
                return iccid
        return None

    async def _optional(self, command: str) -> tuple[str, ...]:
        """A command some modems lack or refuse: ERROR means no answer; busy is waited out
        (the probe's own timeout bounds the wait)."""
        return await self._retry_busy(lambda: self._answer_or_nothing(command))

    async def _answer_or_nothing(self, command: str) -> tuple[str, ...]:
        try:
            return await self.driver.command(command, timeout_s=self.command_timeout_s)
        except CmeError as error:
            if error.code in BUSY_CME:
                raise
            return ()
        except CommandError:
            return ()
        except CommandTimeoutError:
            return ()

    async def _retry_busy(self, operation: Callable[[], Awaitable[T]]) -> T:
        while True:
            try:
                return await operation()
            except CmeError as error:
                if error.code not in BUSY_CME:
                    raise
                await asyncio.sleep(BUSY_RETRY_S)
