"""Faults a test or an operator can inflict on a simulated modem, and their bookkeeping.

Kinds (POST /modems/{name}/faults {"kind": ..., params}):
  unplug {seconds?}            device path disappears, pty closes; replug after `seconds` if given
  replug {boot_ms?}            device path comes back (maybe another pty), the modem boots
  hang {seconds?}              stops answering (input ignored, nothing sent) until unhang/clear
  unhang
  reboot {boot_ms?}            silence, then RDY / +CPIN: READY, all settings reset
  garbage {hex? | length?}     bytes of line noise sent now
  urc_in_reply {urc?, times?}  a URC placed inside the next replies, before the final result code
  slow {per_byte_ms?, per_response_ms?, baud?}  paced output (zeros turn it off); baud paces
                               output as a serial line of that speed (10 bits a byte) would
  send_failure {cms?, times?, after_network?}  the next AT+CMGS answer +CMS ERROR: cms; with
                               after_network the network got the message anyway (duplicate risk)
  deregister {stat?, seconds?} network registration lost (+CREG URC); register brings it back
  register
  storage_full {memory?, capacity?}  the memory reports full; the network holds messages
  storage_free {memory?}       real capacity back; held messages are delivered
  busy {seconds?}              every command answers +CME ERROR: 515 for a while
  sim_busy {seconds?}          SIM commands answer +CME ERROR: 14 / +CMS ERROR: 314
  signal {rssi}                +CSQ value
  clear                        every fault above undone
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gateway.sim.atresult import AtError, CmeError, CmsError

if TYPE_CHECKING:
    from gateway.sim.modem import SimModem

SIM_COMMANDS = frozenset(
    {"+CIMI", "+CCID", "+CICCID", "+QCCID", "^ICCID", "+CNUM", "+CPIN", "+CSCA"}
)
SMS_COMMANDS = frozenset(
    {"+CPMS", "+CMGR", "+CMGL", "+CMGD", "+CMGS", "+CMGW", "+CSCA", "+CNMA", "+CSMS"}
)
FAULT_KINDS = (
    "unplug",
    "replug",
    "hang",
    "unhang",
    "reboot",
    "garbage",
    "urc_in_reply",
    "slow",
    "send_failure",
    "deregister",
    "register",
    "storage_full",
    "storage_free",
    "busy",
    "sim_busy",
    "signal",
    "clear",
)


class FaultError(ValueError):
    """A fault request that cannot be applied (unknown kind, bad parameter)."""


@dataclass(frozen=True, slots=True)
class SendFailure:
    cms: int
    after_network: bool


class FaultState:
    """The modem-side effects of active faults, queried by the modem as it works."""

    def __init__(self) -> None:
        self.hung = False
        self.per_byte_s = 0.0
        self.per_response_s = 0.0
        self.baud = 0
        self.busy_until = 0.0
        self.sim_busy_until = 0.0
        self._urcs: deque[str] = deque()
        self._send_failures: deque[SendFailure] = deque()

    def command_error(self, name: str) -> AtError | None:
        now = time.monotonic()
        if now < self.busy_until:
            return CmeError(515)
        if now < self.sim_busy_until:
            if name in SMS_COMMANDS:
                return CmsError(314)
            if name in SIM_COMMANDS:
                return CmeError(14)
        return None

    def add_urc_inside_reply(self, urc: str, times: int) -> None:
        self._urcs.extend([urc] * times)

    def take_urc_inside_reply(self) -> str | None:
        return self._urcs.popleft() if self._urcs else None

    def add_send_failure(self, cms: int, times: int, after_network: bool) -> None:
        self._send_failures.extend([SendFailure(cms, after_network)] * times)

    def take_send_failure(self) -> SendFailure | None:
        return self._send_failures.popleft() if self._send_failures else None

    def clear_volatile(self) -> None:
        """What a reboot undoes."""
        self.hung = False
        self.busy_until = 0.0
        self._urcs.clear()

    def clear(self) -> None:
        self.clear_volatile()
        self.per_byte_s = 0.0
        self.per_response_s = 0.0
        self.baud = 0
        self.sim_busy_until = 0.0
        self._send_failures.clear()

    def close(self) -> None:
        self.clear()

    def describe(self) -> dict[str, object]:
        now = time.monotonic()
        return {
            "hung": self.hung,
            "per_byte_ms": self.per_byte_s * 1000,
            "per_response_ms": self.per_response_s * 1000,
            "baud": self.baud,
            "busy_s": max(0.0, self.busy_until - now),
            "sim_busy_s": max(0.0, self.sim_busy_until - now),
            "urcs_in_reply": list(self._urcs),
            "send_failures": [
                {"cms": f.cms, "after_network": f.after_network} for f in self._send_failures
            ],
        }


def _number(params: Mapping[str, object], key: str, default: float) -> float:
    value = params.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FaultError(f"{key} must be a number")
    if value < 0:
        raise FaultError(f"{key} must not be negative")
    return float(value)


def _int(params: Mapping[str, object], key: str, default: int) -> int:
    value = params.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise FaultError(f"{key} must be an integer")
    return value


def _memory(modem: SimModem, params: Mapping[str, object]) -> str:
    name = params.get("memory", modem.settings.cpms[2])
    if not isinstance(name, str) or name not in modem.storage:
        raise FaultError(f"unknown memory {name!r}")
    return name


def apply_fault(modem: SimModem, kind: str, params: Mapping[str, object]) -> None:
    """Inflict one fault now. Raises FaultError for an unknown kind or a bad parameter."""
    faults = modem.faults
    if kind == "unplug":
        seconds = params.get("seconds")
        modem.unplug()
        if seconds is not None:
            modem.call_later(_number(params, "seconds", 0), modem.replug)
    elif kind == "replug":
        modem.replug(_number(params, "boot_ms", modem.boot_delay_s * 1000) / 1000)
    elif kind == "hang":
        faults.hung = True
        if params.get("seconds") is not None:
            modem.call_later(_number(params, "seconds", 0), lambda: setattr(faults, "hung", False))
    elif kind == "unhang":
        faults.hung = False
    elif kind == "reboot":
        modem.reboot(_number(params, "boot_ms", modem.boot_delay_s * 1000) / 1000)
    elif kind == "garbage":
        raw = params.get("hex")
        if raw is not None:
            if not isinstance(raw, str):
                raise FaultError("hex must be a string")
            try:
                data = bytes.fromhex(raw)
            except ValueError as exc:
                raise FaultError("hex is not hexadecimal") from exc
        else:
            rng = random.Random(_int(params, "seed", 0))
            data = bytes(rng.randrange(256) for _ in range(_int(params, "length", 16)))
        modem.send_raw(data)
    elif kind == "urc_in_reply":
        urc = params.get("urc", "+CREG: 1")
        if not isinstance(urc, str):
            raise FaultError("urc must be a string")
        faults.add_urc_inside_reply(urc, _int(params, "times", 1))
    elif kind == "slow":
        faults.per_byte_s = _number(params, "per_byte_ms", 0) / 1000
        faults.per_response_s = _number(params, "per_response_ms", 0) / 1000
        faults.baud = _int(params, "baud", 0)
    elif kind == "send_failure":
        after = params.get("after_network", False)
        if not isinstance(after, bool):
            raise FaultError("after_network must be true or false")
        faults.add_send_failure(_int(params, "cms", 500), _int(params, "times", 1), after)
    elif kind == "deregister":
        stat = _int(params, "stat", 2)
        if stat not in (0, 2, 3, 4):
            raise FaultError("stat must be 0, 2, 3 or 4")
        modem.set_registration(stat)
        if params.get("seconds") is not None:
            modem.call_later(_number(params, "seconds", 0), lambda: modem.set_registration(1))
    elif kind == "register":
        modem.set_registration(1)
    elif kind == "storage_full":
        memory = modem.storage[_memory(modem, params)]
        memory.capacity_limit = _int(params, "capacity", memory.used)
    elif kind == "storage_free":
        modem.storage[_memory(modem, params)].capacity_limit = None
        modem.storage_freed()
    elif kind == "busy":
        faults.busy_until = time.monotonic() + _number(params, "seconds", 5)
    elif kind == "sim_busy":
        faults.sim_busy_until = time.monotonic() + _number(params, "seconds", 5)
    elif kind == "signal":
        rssi = _int(params, "rssi", 21)
        if not (0 <= rssi <= 31 or rssi == 99):
            raise FaultError("rssi must be 0..31 or 99")
        modem.rssi = rssi
    elif kind == "clear":
        faults.clear()
        for memory in modem.storage.memories.values():
            memory.capacity_limit = None
        if not modem.plugged:
            modem.replug()
        modem.set_registration(1)
        modem.storage_freed()
    else:
        raise FaultError(f"unknown fault kind {kind!r}; known: {', '.join(FAULT_KINDS)}")
