"""AutoModems: with `modems: auto`, find the modem of each configured line by its SIM.

A device that appears (and every device present at start) is probed; if its SIM matches a
configured line that is not up yet, `on_match(line, device)` brings it up. Anything else is
kept in `unknown_devices` for the admin and logged once. When the device goes away,
`on_lost(device)`. Two names of one port (/dev/gsm/x and /dev/serial/by-id/y) are one device:
only the first is probed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import structlog

from gateway.config import Config
from gateway.config_sections import LineConfig, ModemConfig
from gateway.discovery.matching import match_line
from gateway.discovery.ports import is_serial_device
from gateway.discovery.probe import (
    DEFAULT_BAUD,
    ProbeResult,
    probe_port,
)
from gateway.discovery.watcher import DeviceWatcher

log = structlog.get_logger("gateway.discovery")

MatchCallback = Callable[[LineConfig, str], Awaitable[None]]
LostCallback = Callable[[str], Awaitable[None]]
UnknownReason = Literal[
    "no_answer",  # not a modem, or not its AT port
    "no_matching_line",  # a SIM no configured line names
    "line_in_use",  # its line is already up on another device
    "other_port",  # a second AT port of a modem already in use
    "sim_unreadable",  # the SIM did not say who it is (PIN needed, not inserted, failed)
    "bring_up_failed",  # matched, but on_match raised
]

# A modem that answers AT but whose SIM is still starting is probed again a few times.
DEFAULT_REPROBE_ATTEMPTS = 3
DEFAULT_REPROBE_INTERVAL_S = 2.0


@dataclass(frozen=True, slots=True)
class MatchedDevice:
    device: str
    line: LineConfig
    probe: ProbeResult


@dataclass(frozen=True, slots=True)
class UnknownDevice:
    """A device that was probed and not brought up, and why (`reason`, `detail` for people)."""

    device: str
    probe: ProbeResult
    reason: UnknownReason
    detail: str

    def as_dict(self) -> dict[str, object]:
        """For `sms-gateway status` and the API: what an admin needs to sort it out."""
        return {
            "device": self.device,
            "reason": self.reason,
            "detail": self.detail,
            "probe": self.probe.as_dict(),
        }


class AutoModems:
    def __init__(
        self,
        lines: Sequence[LineConfig],
        *,
        watch_dirs: Iterable[str | Path],
        candidates: Iterable[str],
        on_match: MatchCallback,
        on_lost: LostCallback,
        settle_s: float,
        probe_timeout_s: float,
        baud: int = DEFAULT_BAUD,
        reprobe_attempts: int = DEFAULT_REPROBE_ATTEMPTS,
        reprobe_interval_s: float = DEFAULT_REPROBE_INTERVAL_S,
    ) -> None:
        self.lines: tuple[LineConfig, ...] = tuple(lines)
        self.on_match = on_match
        self.on_lost = on_lost
        self.probe_timeout_s = probe_timeout_s
        self.baud = baud
        self.reprobe_attempts = reprobe_attempts
        self.reprobe_interval_s = reprobe_interval_s
        self.watcher = DeviceWatcher(
            watch_dirs, candidates, self._added, self._removed, settle_s=settle_s
        )
        self._matched: dict[str, MatchedDevice] = {}
        self._unknown: dict[str, UnknownDevice] = {}
        self._real: dict[str, str] = {}  # device -> its real path, taken when it appeared
        self._aliases: dict[str, str] = {}  # second name of a port -> the name in use
        self._probes: dict[str, asyncio.Task[None]] = {}
        self._warned: set[tuple[str, str | None, str | None]] = set()

    @classmethod
    def from_config(
        cls, config: Config, *, on_match: MatchCallback, on_lost: LostCallback
    ) -> AutoModems:
        discovery = config.discovery
        return cls(
            config.lines,
            watch_dirs=discovery.watch_dirs,
            candidates=discovery.candidates,
            on_match=on_match,
            on_lost=on_lost,
            settle_s=discovery.settle_s,
            probe_timeout_s=discovery.probe_timeout_s,
        )

    # public

    @property
    def matched(self) -> Mapping[str, MatchedDevice]:
        """Devices brought up, by device path."""
        return dict(self._matched)

    @property
    def unknown_devices(self) -> Mapping[str, UnknownDevice]:
        """Devices probed and left alone, by device path, for the admin."""
        return dict(self._unknown)

    def device_of(self, line_name: str) -> str | None:
        for matched in self._matched.values():
            if matched.line.name == line_name:
                return matched.device
        return None

    async def start(self) -> None:
        """Watch, and probe every device already present (the probes run in the background)."""
        await self.watcher.start()

    async def stop(self) -> None:
        await self.watcher.stop()
        probes = list(self._probes.values())
        self._probes.clear()
        for task in probes:
            task.cancel()
        for task in probes:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def wait_idle(self) -> None:
        """Wait until no probe is running (for tests and start-up summaries)."""
        while self._probes:
            await asyncio.wait(list(self._probes.values()))

    async def update_lines(self, lines: Sequence[LineConfig]) -> None:
        """Apply a reloaded `lines:` list. A device whose line is gone or changed is lost (and
        matched again if it still fits); unknown devices are matched against the new list."""
        self.lines = tuple(lines)
        by_name = {line.name: line for line in self.lines}
        for device, matched in sorted(self._matched.items()):
            if by_name.get(matched.line.name) == matched.line:
                continue
            del self._matched[device]
            await self._lose(device)
            await self._assign(device, matched.probe)
        for device, unknown in sorted(self._unknown.items()):
            if unknown.probe.answers_at and device not in self._matched:
                del self._unknown[device]
                await self._assign(device, unknown.probe)

    # watcher callbacks

    async def _added(self, device: str) -> None:
        real = _real_path(device)
        for known, known_real in self._real.items():
            if known_real == real and known != device:
                self._aliases[device] = known
                log.debug("discovery.alias", device=device, same_as=known)
                return
        self._real[device] = real
        self._probes[device] = asyncio.get_running_loop().create_task(
            self._probe(device), name=f"probe-{device}"
        )

    async def _removed(self, device: str) -> None:
        if self._aliases.pop(device, None) is not None:
            return
        self._real.pop(device, None)
        task = self._probes.pop(device, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._unknown.pop(device, None)
        if device in self._matched:
            del self._matched[device]
            await self._lose(device)
            await self._reconsider_waiting()
        # Another name of the same port is still there: it takes over.
        heirs = sorted(alias for alias, of in self._aliases.items() if of == device)
        for alias in heirs:
            del self._aliases[alias]
        for alias in heirs:
            await self._added(alias)

    async def _reconsider_waiting(self) -> None:
        """A line went down: a device that was kept out because of it may now come up."""
        for device, unknown in sorted(self._unknown.items()):
            if unknown.reason in ("line_in_use", "other_port") and is_serial_device(device):
                del self._unknown[device]
                await self._assign(device, unknown.probe)

    # probing and matching

    async def _probe(self, device: str) -> None:
        try:
            result = await probe_port(device, baud=self.baud, timeout_s=self.probe_timeout_s)
            attempts = 1
            while (
                result.answers_at
                and not result.identifies_sim
                and result.sim_state not in ("SIM PIN", "SIM PUK", "not inserted")
                and attempts < self.reprobe_attempts
            ):
                # A modem just plugged in may answer before its SIM is ready.
                await asyncio.sleep(self.reprobe_interval_s)
                result = await probe_port(device, baud=self.baud, timeout_s=self.probe_timeout_s)
                attempts += 1
            await self._assign(device, result)
        finally:
            if self._probes.get(device) is asyncio.current_task():
                del self._probes[device]

    async def _assign(self, device: str, result: ProbeResult) -> None:
        if not result.answers_at:
            self._unknown[device] = UnknownDevice(
                device, result, "no_answer", result.error or "no answer to AT"
            )
            log.info("discovery.port_silent", device=device, error=result.error)
            return
        other = self._same_modem(result)
        if other is not None:
            self._unknown[device] = UnknownDevice(
                device, result, "other_port", f"another port of the modem on {other}"
            )
            log.info("discovery.other_port", device=device, modem_on=other)
            return
        match = match_line(result.identity, self.lines)
        if match is None:
            if result.identifies_sim:
                reason: UnknownReason = "no_matching_line"
                detail = "no configured line has this SIM's ICCID, IMSI or number"
            else:
                reason = "sim_unreadable"
                detail = f"the SIM did not say who it is (SIM state {result.sim_state})"
            self._record_unknown(UnknownDevice(device, result, reason, detail))
            return
        holder = self.device_of(match.line.name)
        if holder is not None:
            self._record_unknown(
                UnknownDevice(
                    device,
                    result,
                    "line_in_use",
                    f"line {match.line.name!r} is already up on {holder}",
                )
            )
            return
        self._matched[device] = MatchedDevice(device, match.line, result)
        log.info(
            "discovery.line_found",
            line=match.line.name,
            device=device,
            by=match.key,
            imei=result.identity.imei,
            model=result.identity.model,
        )
        try:
            await self.on_match(match.line, device)
        except Exception as exc:
            log.exception("discovery.on_match_failed", line=match.line.name, device=device)
            if self._matched.get(device) is not None:
                del self._matched[device]
                self._unknown[device] = UnknownDevice(
                    device, result, "bring_up_failed", f"bringing up {match.line.name}: {exc}"
                )

    def _same_modem(self, result: ProbeResult) -> str | None:
        """The device of an already matched modem that this port also belongs to (a modem's
        second AT port): the same IMEI with the same SIM in it."""
        if not result.identity.imei or not result.identifies_sim:
            return None
        for matched in self._matched.values():
            seen, found = matched.probe.identity, result.identity
            if (
                seen.imei == found.imei
                and (seen.iccid, seen.imsi) == (found.iccid, found.imsi)
                and matched.probe.resolved != result.resolved
            ):
                return matched.device
        return None

    def _record_unknown(self, unknown: UnknownDevice) -> None:
        self._unknown[unknown.device] = unknown
        probe = unknown.probe
        identity = probe.identity
        sim = identity.iccid or identity.imsi or identity.own_number
        key = (unknown.device, sim, identity.imei)
        if key in self._warned:
            return
        self._warned.add(key)
        log.warning(
            "discovery.unknown_modem",
            device=unknown.device,
            reason=unknown.reason,
            detail=unknown.detail,
            found=probe.describe(),
            iccid=identity.iccid,
            imsi=identity.imsi,
            own_number=identity.own_number,
            imei=identity.imei,
            model=identity.model,
        )

    async def _lose(self, device: str) -> None:
        log.info("discovery.device_lost", device=device)
        try:
            await self.on_lost(device)
        except Exception:
            log.exception("discovery.on_lost_failed", device=device)


def modem_config_for(line: LineConfig, device: str) -> ModemConfig:
    """The modem entry a matched line runs as: the line's settings on the found device."""
    return ModemConfig.model_validate({**line.model_dump(), "device": device})


def _real_path(device: str) -> str:
    return os.path.realpath(device)  # a /dev lookup: does not block
