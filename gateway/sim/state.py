"""The volatile settings of a simulated modem (reset by ATZ / a reboot) and its SIM card."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

from gateway.sim.profiles import Profile

SimState = Literal["READY", "SIM PIN", "SIM PUK"]
PIN_ATTEMPTS = 3
PUK_ATTEMPTS = 10


@dataclass(slots=True)
class ModemSettings:
    echo: bool = True
    verbose: bool = True
    quiet: bool = False
    cmee: int = 0
    cmgf: int = 0
    cscs: str = "IRA"
    csms: int = 0
    cnmi: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)
    cpms: list[str] = field(default_factory=lambda: ["SM", "SM", "SM"])
    # +CSMP <fo>,<vp>,<pid>,<dcs> for text-mode sends.
    csmp: tuple[int, int, int, int] = (17, 167, 0, 0)
    creg: int = 0
    cgreg: int = 0
    cereg: int = 0
    cops_format: int = 0
    cusd: int = 0
    # Simple numeric settings (+CLIP, +CRC, +CVHU, +CMMS, S-registers...): name -> value.
    simple: dict[str, int] = field(default_factory=dict)

    @classmethod
    def defaults(cls, profile: Profile) -> ModemSettings:
        return cls(
            cscs=profile.cscs_default,
            cnmi=profile.cnmi_default,
            cpms=list(profile.cpms_default),
        )

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(slots=True)
class SimCard:
    """PIN and PUK state: three wrong PINs ask for the PUK, ten wrong PUKs block the card."""

    pin: str | None
    puk: str
    state: SimState = "READY"
    pin_attempts: int = PIN_ATTEMPTS
    puk_attempts: int = PUK_ATTEMPTS
    blocked: bool = False

    def __post_init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Power-on: a card with PIN protection asks for it again (a PUK state persists)."""
        if self.state == "SIM PUK":
            return
        self.state = "SIM PIN" if self.pin is not None else "READY"

    def enter_pin(self, pin: str) -> bool:
        if pin == self.pin:
            self.state = "READY"
            self.pin_attempts = PIN_ATTEMPTS
            return True
        self.pin_attempts -= 1
        if self.pin_attempts <= 0:
            self.state = "SIM PUK"
        return False

    def enter_puk(self, puk: str, new_pin: str) -> bool:
        if self.blocked:
            return False
        if puk == self.puk:
            self.pin = new_pin
            self.state = "READY"
            self.pin_attempts = PIN_ATTEMPTS
            self.puk_attempts = PUK_ATTEMPTS
            return True
        self.puk_attempts -= 1
        if self.puk_attempts <= 0:
            self.blocked = True
        return False
