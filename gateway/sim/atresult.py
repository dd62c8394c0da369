"""What an AT command handler returns or raises; the modem turns these into framed bytes."""

from __future__ import annotations

from dataclasses import dataclass

# TS 27.007 9.2 (+CME ERROR) and TS 27.005 3.2.5 (+CMS ERROR) codes the simulator uses,
# with the verbose texts of AT+CMEE=2.
CME_TEXT: dict[int, str] = {
    0: "phone failure",
    3: "operation not allowed",
    4: "operation not supported",
    10: "SIM not inserted",
    11: "SIM PIN required",
    12: "SIM PUK required",
    13: "SIM failure",
    14: "SIM busy",
    16: "incorrect password",
    20: "memory full",
    21: "invalid index",
    30: "no network service",
    50: "incorrect parameters",
    100: "unknown",
    515: "please wait, init or command processing in progress",
}
CMS_TEXT: dict[int, str] = {
    300: "ME failure",
    302: "operation not allowed",
    303: "operation not supported",
    304: "invalid PDU mode parameter",
    305: "invalid text mode parameter",
    310: "SIM not inserted",
    311: "SIM PIN required",
    313: "SIM failure",
    314: "SIM busy",
    316: "SIM PUK required",
    321: "invalid memory index",
    322: "memory full",
    330: "SMSC address unknown",
    331: "no network service",
    332: "network timeout",
    340: "no +CNMA acknowledgement expected",
    500: "unknown error",
    512: "SMS rejected by the network",
}


class AtError(Exception):
    """A command failed; the modem answers with a final result code built from this."""


class PlainError(AtError):
    """ERROR (or the profile's text for an unknown command when `unknown` is set)."""

    def __init__(self, *, unknown: bool = False) -> None:
        super().__init__("ERROR")
        self.unknown = unknown


class CmeError(AtError):
    def __init__(self, code: int) -> None:
        super().__init__(f"+CME ERROR: {code}")
        self.code = code


class CmsError(AtError):
    def __init__(self, code: int) -> None:
        super().__init__(f"+CMS ERROR: {code}")
        self.code = code


@dataclass(frozen=True, slots=True)
class Reply:
    """Information text lines (one V.25ter block) and whether the final "OK" follows."""

    lines: tuple[str, ...] = ()
    final: bool = True


OK = Reply()


def lines(*text: str) -> Reply:
    return Reply(tuple(text))
