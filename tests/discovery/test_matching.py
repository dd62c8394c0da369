"""Which line a SIM belongs to: ICCID and IMSI pin a line, the own number is the fallback."""

from __future__ import annotations

import pytest

from gateway.config_sections import LineConfig
from gateway.discovery import match_line
from gateway.discovery.matching import same_iccid, same_number
from gateway.modem import Identity

ICCID = "8944110012345678901"
IMSI = "234150123456789"

BY_ICCID = LineConfig(name="by-iccid", number="+447700900001", iccid=ICCID)
BY_IMSI = LineConfig(name="by-imsi", number="+447700900002", imsi=IMSI)
BY_NUMBER = LineConfig(name="by-number", number="+447700900003")
BOTH = LineConfig(name="both", number="+447700900004", iccid=ICCID, imsi=IMSI)


@pytest.mark.parametrize(
    ("identity", "lines", "expected"),
    [
        (Identity(iccid=ICCID), [BY_IMSI, BY_ICCID], ("by-iccid", "iccid")),
        (Identity(iccid=ICCID + "F"), [BY_ICCID], ("by-iccid", "iccid")),
        (Identity(iccid=ICCID[:-1]), [BY_ICCID], ("by-iccid", "iccid")),  # no check digit
        (Identity(imsi=IMSI), [BY_ICCID, BY_IMSI], ("by-imsi", "imsi")),
        (Identity(iccid=ICCID, imsi=IMSI), [BY_IMSI, BY_ICCID], ("by-iccid", "iccid")),
        (Identity(iccid=ICCID, imsi="234150000000000"), [BOTH], None),  # IMSI disagrees
        (Identity(iccid="8944110099999999999", imsi=IMSI), [BOTH], None),
        (Identity(imsi=IMSI), [BOTH], ("both", "imsi")),  # ICCID unreadable: IMSI decides
        # A line pinned to a SIM is never matched by number alone.
        (Identity(own_number="+447700900001"), [BY_ICCID], None),
        (Identity(own_number="+447700900003"), [BY_ICCID, BY_NUMBER], ("by-number", "number")),
        # The SIM's own number often is wrong: a pinned line ignores it.
        (Identity(iccid=ICCID, own_number="+15550000000"), [BY_ICCID], ("by-iccid", "iccid")),
        (Identity(own_number="+447700900009"), [BY_NUMBER], None),
        (Identity(), [BY_ICCID, BY_IMSI, BY_NUMBER], None),
    ],
)
def test_match_line(
    identity: Identity, lines: list[LineConfig], expected: tuple[str, str] | None
) -> None:
    match = match_line(identity, lines)
    assert (None if match is None else (match.line.name, match.key)) == expected


@pytest.mark.parametrize(
    ("found", "same"),
    [
        ("+447700900003", True),
        ("447700900003", True),  # type 145 without the plus
        ("00447700900003", True),
        ("07700900003", True),  # national format with trunk prefix
        ("7700900003", True),
        ("+17700900003", False),  # another country, same national digits
        ("900003", False),  # too short to trust
        ("", False),
    ],
)
def test_own_number_formats(found: str, same: bool) -> None:
    assert same_number("+447700900003", found) is same


def test_iccid_prefix_needs_enough_digits() -> None:
    assert same_iccid("89441100123456789", "894411001234567890") is False
    assert same_iccid(ICCID, ICCID[:-1]) is True
    assert same_iccid(ICCID, ICCID[:-2]) is False
