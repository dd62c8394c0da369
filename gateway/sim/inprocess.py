"""The simulated network run inside the daemon for `simulator: true` modems: one SimModem per
line, each on a real pty (or, for fast tests, an in-memory transport)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

from gateway.sim.modem import SimModem
from gateway.sim.network import SimNetwork
from gateway.sim.transport import PtyPort, open_pty

SimTransport = Literal["pty", "memory"]


def sim_identity(number: str) -> tuple[str, str]:
    """A stable IMSI and ICCID for a simulated line, so it is recognised across restarts."""
    digits = int(hashlib.sha256(number.encode()).hexdigest(), 16)
    return f"00101{digits % 10**10:010d}", f"8901260{digits % 10**12:012d}"


class InProcessSimulator:
    """The network and its modems; `add` returns the device path a supervisor opens."""

    def __init__(
        self,
        directory: Path,
        *,
        profile: str,
        transport: SimTransport = "pty",
        delivery_delay_s: float,
        status_report_delay_s: float,
    ) -> None:
        self.transport: SimTransport = transport
        self.network = SimNetwork(
            delivery_delay_s=delivery_delay_s, report_delay_s=status_report_delay_s
        )
        self.directory = directory
        self.profile = profile
        self.ports: dict[str, PtyPort] = {}
        self.modems: dict[str, SimModem] = {}

    async def add(self, name: str, number: str, *, profile: str | None, pin: str | None) -> str:
        """Attach a modem for line `name`; `profile` None uses the simulator's default."""
        imsi, iccid = sim_identity(number)
        sim_modem = SimModem(name, number, profile or self.profile, imsi=imsi, iccid=iccid, pin=pin)
        self.network.attach(sim_modem)
        self.modems[name] = sim_modem
        if self.transport == "memory":
            return f"memory:{name}"
        self.directory.mkdir(parents=True, exist_ok=True)
        port = await open_pty(sim_modem, self.directory)
        self.ports[name] = port
        return str(port.path)

    async def remove(self, name: str) -> None:
        port = self.ports.pop(name, None)
        if port is not None:
            port.close()
        sim_modem = self.modems.pop(name, None)
        if sim_modem is not None:
            self.network.detach(sim_modem)
            sim_modem.close()  # its timers (URCs, registration) end with it

    async def close(self) -> None:
        for name in list(self.ports):
            await self.remove(name)
        await self.network.aclose()
