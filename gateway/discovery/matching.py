"""Which configured line a probed SIM belongs to. Pure: no I/O, no clock.

ICCID and IMSI identify a SIM: a line that gives either is matched by them only, and never
when one of them disagrees, so a line pinned to a SIM is not brought up on another. A line that
gives neither is matched by its number against the SIM's own number (AT+CNUM), which SIMs
often lack or carry wrong, so it only counts when nothing better is configured.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from gateway.config_sections import LineConfig
from gateway.modem import Identity

MatchKey = Literal["iccid", "imsi", "number"]
_STRENGTH: dict[MatchKey, int] = {"iccid": 3, "imsi": 2, "number": 1}
# An ICCID's last digit is a Luhn check digit that some modems leave out; below this many
# digits a prefix is not trusted.
MIN_ICCID_DIGITS = 18
# A national-format own number (no country code) is matched on its trailing digits, this many
# at least.
MIN_NATIONAL_DIGITS = 8


@dataclass(frozen=True, slots=True)
class LineMatch:
    line: LineConfig
    key: MatchKey  # the strongest key that agreed


def match_line(identity: Identity, lines: Sequence[LineConfig]) -> LineMatch | None:
    """The line this SIM belongs to, by its strongest agreeing key (earlier line on a tie)."""
    best: LineMatch | None = None
    for line in lines:
        key = _line_key(identity, line)
        if key is not None and (best is None or _STRENGTH[key] > _STRENGTH[best.key]):
            best = LineMatch(line, key)
    return best


def _line_key(identity: Identity, line: LineConfig) -> MatchKey | None:
    if line.iccid or line.imsi:
        iccid = _compare(line.iccid, identity.iccid, same_iccid)
        imsi = _compare(line.imsi, identity.imsi, lambda a, b: a == b)
        if iccid is False or imsi is False:
            return None
        if iccid:
            return "iccid"
        return "imsi" if imsi else None
    return "number" if _compare(line.number, identity.own_number, same_number) else None


def _compare(
    configured: str | None, found: str | None, same: Callable[[str, str], bool]
) -> bool | None:
    """True or False when both sides know the value; None when either does not."""
    if not configured or not found:
        return None
    return same(configured, found)


def same_iccid(configured: str, found: str) -> bool:
    a = configured.upper().rstrip("F")
    b = found.upper().rstrip("F")
    if a == b:
        return True
    shorter, longer = sorted((a, b), key=len)
    return len(shorter) >= MIN_ICCID_DIGITS and len(longer) == len(shorter) + 1 and (
        longer.startswith(shorter)
    )


def same_number(configured: str, found: str) -> bool:
    """`configured` is E.164 (+CC...); the SIM's own number may lack the + or the country code."""
    a = _digits(configured)
    b = _digits(found)
    if not a or not b:
        return False
    if a == b:
        return True
    if found.strip().startswith(("+", "00")):
        return False  # international on both sides, and different
    national = b.lstrip("0") if len(b) > MIN_NATIONAL_DIGITS else b
    return len(national) >= MIN_NATIONAL_DIGITS and a.endswith(national)


def _digits(number: str) -> str:
    text = number.strip()
    digits = "".join(c for c in text if c.isdigit())
    if text.startswith("00"):
        digits = digits[2:]
    return digits
