"""One object that runs a whole simulated network: modems on ptys, handsets, control API."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from aiohttp import web

from gateway.sim.control import create_control_app
from gateway.sim.modem import SimModem
from gateway.sim.network import DEFAULT_SMSC, Clock, SimNetwork
from gateway.sim.profiles import get_profile
from gateway.sim.smsc import DEFAULT_NUMBER, SimSmsc
from gateway.sim.transport import PtyPort, open_pty

FIRST_MSISDN = 15551230001


def msisdn_for(index: int) -> str:
    """The number of the index-th simulated modem (from 0): +15551230001, +15551230002..."""
    return f"+{FIRST_MSISDN + index}"


class SimRunner:
    """`async with SimRunner(modems=2, profile="quectel") as sim:` -> sim.modems, sim.devices.

    `profile` may name one profile or a comma-separated list used in turn. Without `directory`
    the device symlinks go to a temporary directory removed at the end. `control` is
    (host, port) for the control API (port 0: any free port); None runs without it.
    """

    def __init__(
        self,
        modems: int = 1,
        profile: str | Sequence[str] = "generic",
        *,
        directory: Path | str | None = None,
        control: tuple[str, int] | None = None,
        smsc: str = DEFAULT_SMSC,
        clock: Clock | None = None,
        pin: str | None = None,
        boot_delay_s: float = 0.3,
        smpp: tuple[str, int] | None = None,
        smpp_number: str = DEFAULT_NUMBER,
    ) -> None:
        names = profile.split(",") if isinstance(profile, str) else list(profile)
        self.profiles = [get_profile(n.strip()) for n in names]
        self.count = modems
        self.network = SimNetwork(smsc, clock=clock)
        self._directory_arg = Path(directory) if directory is not None else None
        self.directory: Path | None = None
        self._own_directory = False
        self._control_addr = control
        self.control_url: str | None = None
        self.modems: list[SimModem] = []
        self.ports: dict[str, PtyPort] = {}
        self._pin = pin
        self._boot_delay_s = boot_delay_s
        self._web: web.AppRunner | None = None
        self.smpp: SimSmsc | None = None
        if smpp is not None:
            self.smpp = SimSmsc(self.network, host=smpp[0], port=smpp[1], number=smpp_number)

    async def start(self) -> None:
        if self._directory_arg is None:
            self.directory = Path(tempfile.mkdtemp(prefix="sms-sim-"))
            self._own_directory = True
        else:
            self.directory = self._directory_arg
            self.directory.mkdir(parents=True, exist_ok=True)
        try:
            for i in range(self.count):
                profile = self.profiles[i % len(self.profiles)]
                modem = SimModem(
                    f"modem{i + 1}",
                    msisdn_for(i),
                    profile,
                    pin=self._pin,
                    boot_delay_s=self._boot_delay_s,
                )
                self.network.attach(modem)
                self.modems.append(modem)
                self.ports[modem.name] = await open_pty(modem, self.directory)
            if self.smpp is not None:
                await self.smpp.start()
            if self._control_addr is not None:
                await self._start_control(*self._control_addr)
        except BaseException:
            await self.stop()
            raise

    async def _start_control(self, host: str, port: int) -> None:
        self._web = web.AppRunner(create_control_app(self.network), access_log=None)
        await self._web.setup()
        site = web.TCPSite(self._web, host, port)
        await site.start()
        address = self._web.addresses[0]
        shown = f"[{address[0]}]" if ":" in address[0] else address[0]
        self.control_url = f"http://{shown}:{address[1]}"

    async def stop(self) -> None:
        if self._web is not None:
            await self._web.cleanup()
            self._web = None
        if self.smpp is not None:
            await self.smpp.stop()
        for port in self.ports.values():
            port.close()
        self.ports.clear()
        await self.network.aclose()
        if self._own_directory and self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)

    async def __aenter__(self) -> SimRunner:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def modem(self, name: str) -> SimModem:
        for modem in self.modems:
            if modem.name == name:
                return modem
        raise KeyError(name)

    def device(self, name: str) -> str:
        return str(self.ports[name].path)

    def describe(self) -> dict[str, Any]:
        """What `sms-gateway sim` prints: the control URL, each modem's device and, with
        --smsc, the SMSC's address, account and short code."""
        smsc = {} if self.smpp is None else {"smsc": self.smpp.describe()}
        return {
            **smsc,
            "control": self.control_url,
            "modems": [
                {
                    "name": m.name,
                    "device": str(self.ports[m.name].path) if m.name in self.ports else None,
                    "msisdn": m.msisdn,
                    "profile": m.profile.name,
                }
                for m in self.modems
            ],
        }
