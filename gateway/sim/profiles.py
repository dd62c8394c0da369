"""Modem profiles: what a simulated modem says about itself and which real-world quirks it has.

Quirks come from vendors' manuals and public fixtures of real devices (see the reference notes):
Huawei's "COMMAND NOT SUPPORT" and ^RSSI inside replies, Wavecom's leading space and +CPIN?
without OK, SIMCom's unreadable SR memory, and so on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

CpmsTestFormat = Literal["flat", "nested"]


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    manufacturer: str
    model: str
    revision: str
    imei: str = "356938035643809"
    ccid_command: str = "+CCID"
    # Final result code for a command the modem does not know.
    unknown_command: str = "ERROR"
    # +CPMS: the memories each of <mem1>, <mem2>, <mem3> may name, and their sizes.
    cpms_choices: tuple[tuple[str, ...], ...] = (("SM", "ME", "SR"), ("SM", "ME"), ("SM", "ME"))
    cpms_test_format: CpmsTestFormat = "flat"
    cpms_min_args: int = 1
    cpms_max_args: int = 3
    cpms_default: tuple[str, str, str] = ("SM", "SM", "SM")
    capacities: dict[str, int] = field(default_factory=lambda: {"SM": 30, "ME": 100, "SR": 20})
    first_index: int = 1
    cnmi_ranges: tuple[tuple[int, ...], ...] = ((0, 1, 2), (0, 1, 2, 3), (0, 2), (0, 1, 2), (0, 1))
    cnmi_default: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)
    cscs_choices: tuple[str, ...] = ("GSM", "IRA", "UCS2", "HEX", "8859-1")
    cscs_default: str = "IRA"
    # Where +CDSI-routed status reports are stored.
    report_memory: str = "SR"
    # Quirks.
    cpin_read_without_ok: bool = False
    busy_after_cfun: int = 0  # commands answering +CME ERROR: 515 after AT+CFUN=1
    urc_inside_reply: str | None = None  # e.g. Huawei's ^RSSI
    urc_inside_reply_every: int = 0  # inserted into every Nth reply with information text
    cmgr_sr_fails: bool = False  # AT+CMGR on SR answers +CMS ERROR: 321
    clac_supported: bool = True
    boot_urcs: tuple[str, ...] = ("RDY", "+CPIN: READY")
    operator_long: str = "SimNet"
    operator_short: str = "SimNet"
    operator_numeric: str = "00101"
    access_technology: int = 7  # +COPS <AcT>: 7 = E-UTRAN
    extra_commands: tuple[str, ...] = ()  # vendor commands answered with OK

    @property
    def ati_lines(self) -> tuple[str, ...]:
        return (self.manufacturer, self.model, self.revision)


GENERIC = Profile(
    name="generic",
    manufacturer="SimModem",
    model="GSM-27005",
    revision="1.0.0",
)

HUAWEI = Profile(
    name="huawei",
    manufacturer="huawei",
    model="E3372",
    revision="22.328.62.00.00",
    imei="866425020149711",
    ccid_command="^ICCID",
    unknown_command="COMMAND NOT SUPPORT",
    cpms_choices=(("SM", "ME", "SR"), ("SM", "ME"), ("SM", "ME")),
    cpms_min_args=3,
    capacities={"SM": 40, "ME": 500, "SR": 40},
    first_index=0,
    cnmi_ranges=((0, 1, 2), (0, 1, 2, 3), (0, 2), (0, 1, 2), (0, 1)),
    cscs_choices=("IRA", "UCS2", "GSM"),
    urc_inside_reply="^RSSI: 18",
    urc_inside_reply_every=5,
    boot_urcs=("^BOOT:21306083,0,0,0,75", "^MODE:5,4"),
    access_technology=7,
    extra_commands=("^CURC", "^USSDMODE", "^SYSCFG", "^CVOICE"),
)

SIMCOM = Profile(
    name="simcom",
    manufacturer="SIMCOM INCORPORATED",
    model="SIMCOM_SIM7600E-H",
    revision="Revision:SIM7600M22_V2.0",
    imei="862636030140712",
    ccid_command="+CICCID",
    cpms_choices=(("SM", "ME", "SR"), ("SM", "ME"), ("SM", "ME")),
    capacities={"SM": 50, "ME": 180, "SR": 20},
    first_index=0,
    cnmi_ranges=((0, 1, 2), (0, 1, 2, 3), (0, 2), (0, 1, 2), (0, 1)),
    cscs_choices=("IRA", "GSM", "UCS2"),
    cmgr_sr_fails=True,
    boot_urcs=("RDY", "+CPIN: READY", "SMS DONE", "PB DONE"),
    extra_commands=("+CSDH", "+CGREG"),
)

QUECTEL = Profile(
    name="quectel",
    manufacturer="Quectel",
    model="EC25",
    revision="Revision: EC25EFAR06A03M4G",
    ccid_command="+QCCID",
    cpms_choices=(("SM", "ME", "SR"), ("SM", "ME"), ("SM", "ME")),
    capacities={"SM": 50, "ME": 255, "SR": 50},
    first_index=0,
    cnmi_ranges=((0, 1, 2), (0, 1, 2, 3), (0, 2), (0, 1, 2), (0, 1)),
    cscs_choices=("GSM", "IRA", "UCS2"),
    cscs_default="GSM",
    boot_urcs=("RDY", "+CFUN: 1", "+CPIN: READY", "+QUSIM: 1", "+QIND: SMS DONE"),
    extra_commands=("+QURCCFG", "+QINDCFG"),
)

WAVECOM = Profile(
    name="wavecom",
    manufacturer=" WAVECOM MODEM",
    model=" MULTIBAND  900E  1800",
    revision="641b09gg.Q2406B 1266500 070105 17:06",
    imei="012378000130286",
    cpms_choices=(("SM", "BM", "SR"), ("SM",)),
    cpms_test_format="nested",
    cpms_max_args=2,
    cpms_default=("SM", "SM", "SM"),
    capacities={"SM": 20, "BM": 20, "SR": 20},
    first_index=1,
    cnmi_ranges=((0, 1, 2, 3), (0, 1, 2, 3), (0, 1, 2), (0, 1, 2), (0, 1)),
    cscs_choices=("GSM", "PCCP437", "CUSTOM", "HEX"),
    cscs_default="GSM",
    cpin_read_without_ok=True,
    busy_after_cfun=2,
    clac_supported=False,
    boot_urcs=("+WIND: 3", "+WIND: 1", "+WIND: 7", "+WIND: 4"),
    extra_commands=("+WIND", "+WOPEN"),
)

PROFILES: dict[str, Profile] = {p.name: p for p in (GENERIC, HUAWEI, SIMCOM, QUECTEL, WAVECOM)}


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        known = ", ".join(sorted(PROFILES))
        raise ValueError(f"unknown modem profile {name!r}; known: {known}") from None
