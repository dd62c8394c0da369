"""Pure parsers for the responses and URCs of TS 27.005 / 27.007, vendor variants included."""

from __future__ import annotations

import re
from collections.abc import Sequence

from gateway.modem.model import Registration, StorageStatus, StoredMessage

_GROUP_RE = re.compile(r"\(([^()]*)\)")
_INT_RE = re.compile(r"-?\d+")
_HEX_RE = re.compile(r"^[0-9A-Fa-f]+$")
_IDENT_PREFIX_RE = re.compile(
    r"^(?:[+^][A-Z]+:|manufacturer:|model:|revision:|imei:|iccid:)\s*", re.IGNORECASE
)

_CREG_STATUS: dict[int, Registration] = {
    0: "not_registered",
    1: "home",
    2: "searching",
    3: "denied",
    4: "unknown",
    5: "roaming",
    6: "home",  # SMS only, home
    7: "roaming",  # SMS only, roaming
    8: "not_registered",  # emergency services only
    9: "home",  # CSFB not preferred, home
    10: "roaming",  # CSFB not preferred, roaming
}


def value_of(line: str) -> str:
    """The part after `+PREFIX:`, stripped; the whole line when it has no prefix."""
    if line[:1] in "+^*$%":
        _head, sep, rest = line.partition(":")
        if sep:
            return rest.strip()
    return line.strip()


def split_fields(value: str) -> list[str]:
    """Split a comma-separated AT value, respecting quotes and parentheses; quotes removed."""
    fields: list[str] = []
    current: list[str] = []
    depth = 0
    quoted = False
    for char in value:
        if char == '"':
            quoted = not quoted
            continue
        if not quoted:
            if char == "(":
                depth += 1
            elif char == ")":
                depth -= 1
            elif char == "," and depth <= 0:
                fields.append("".join(current).strip())
                current = []
                continue
        current.append(char)
    fields.append("".join(current).strip())
    return fields


def _int(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdigit() else None


def parse_cmgl(lines: Sequence[str], memory: str) -> list[StoredMessage]:
    """`+CMGL: <index>,<stat>,[<alpha>],<length>` each followed by its PDU line."""
    messages: list[StoredMessage] = []
    header: list[str] | None = None
    for line in lines:
        if line.upper().startswith("+CMGL:"):
            header = split_fields(value_of(line))
            continue
        if header is None or not _HEX_RE.match(line):
            continue
        index = _int(header[0])
        stat = _int(header[1]) if len(header) > 1 else None
        if index is not None:
            length = _int(header[-1]) if len(header) > 2 else None
            messages.append(
                StoredMessage(memory, index, stat if stat is not None else 0, line.upper(), length)
            )
        header = None
    return messages


def parse_cmgr(lines: Sequence[str], memory: str, index: int) -> StoredMessage | None:
    """`+CMGR: <stat>,[<alpha>],<length>` followed by the PDU; None for an empty slot."""
    header: list[str] | None = None
    for line in lines:
        if line.upper().startswith("+CMGR:"):
            header = split_fields(value_of(line))
            continue
        if header is not None and _HEX_RE.match(line):
            stat = _int(header[0])
            length = _int(header[-1]) if len(header) > 1 else None
            return StoredMessage(
                memory, index, stat if stat is not None else 0, line.upper(), length
            )
    return None


def parse_cmgs(lines: Sequence[str]) -> int | None:
    """TP-MR from `+CMGS: <mr>[,<scts>]`."""
    for line in lines:
        if line.upper().startswith("+CMGS:"):
            return _int(split_fields(value_of(line))[0])
    return None


def parse_cpms_options(lines: Sequence[str]) -> list[list[str]]:
    """Memories offered per parameter by AT+CPMS=?, also Wavecom's nested `((..),(..))` form."""
    for line in lines:
        if not line.upper().startswith("+CPMS:"):
            continue
        value = value_of(line)
        if value.startswith("((") and value.endswith("))"):
            value = value[1:-1]
        return [
            [name.strip().strip('"') for name in group.split(",") if name.strip().strip('"')]
            for group in _GROUP_RE.findall(value)
        ]
    return []


def parse_cpms_status(lines: Sequence[str], names: Sequence[str]) -> tuple[StorageStatus, ...]:
    """`+CPMS: <used1>,<total1>[,<used2>,<total2>...]` (also the form with memory names)."""
    for line in lines:
        if not line.upper().startswith("+CPMS:"):
            continue
        numbers = [int(n) for n in _INT_RE.findall(re.sub(r'"[^"]*"', "", value_of(line)))]
        pairs = list(zip(numbers[0::2], numbers[1::2], strict=False))
        return tuple(
            StorageStatus(name, used, total)
            for name, (used, total) in zip(names, pairs, strict=False)
        )
    return ()


def parse_ranges(value: str) -> list[frozenset[int]]:
    """`(0-2),(0-3),(0,2)` -> [{0,1,2}, {0,1,2,3}, {0,2}] (as AT+CNMI=? answers)."""
    result: list[frozenset[int]] = []
    for group in _GROUP_RE.findall(value):
        values: set[int] = set()
        for item in group.split(","):
            item = item.strip()
            low, dash, high = item.partition("-")
            if dash and low.isdigit() and high.isdigit():
                values.update(range(int(low), int(high) + 1))
            elif item.isdigit():
                values.add(int(item))
        result.append(frozenset(values))
    return result


def parse_csq(value: str) -> tuple[int | None, int | None]:
    """(CSQ 0..31, dBm) from `+CSQ: <rssi>,<ber>` or `^RSSI: <rssi>`; None for 99 (unknown)."""
    rssi = _int(split_fields(value)[0])
    if rssi is None or rssi > 31:
        return None, None
    return rssi, -113 + 2 * rssi


def parse_creg(value: str, *, solicited: bool) -> Registration:
    """Registration from `+CREG: [<n>,]<stat>[,<lac>,<ci>[,<act>]]`.

    The answer to AT+CREG? starts with <n>; the URC does not.
    """
    fields = split_fields(value)
    position = 1 if solicited else 0
    if len(fields) <= position:
        return "unknown"
    stat = _int(fields[position])
    return _CREG_STATUS.get(stat, "unknown") if stat is not None else "unknown"


def parse_cpin(lines: Sequence[str]) -> str | None:
    """`+CPIN: READY` / `SIM PIN` / `SIM PUK` ... -> the code, upper case."""
    for line in lines:
        if line.upper().startswith("+CPIN:"):
            return value_of(line).strip('"').upper()
    return None


def parse_cnum(lines: Sequence[str]) -> str | None:
    """Own number from `+CNUM: [<alpha>],<number>,<type>`."""
    for line in lines:
        if line.upper().startswith("+CNUM:"):
            fields = split_fields(value_of(line))
            if len(fields) > 1 and fields[1]:
                return fields[1]
    return None


def parse_csca(lines: Sequence[str]) -> str | None:
    """SMSC address from `+CSCA: <sca>,<tosca>`; None when empty."""
    for line in lines:
        if line.upper().startswith("+CSCA:"):
            sca = split_fields(value_of(line))[0]
            return sca or None
    return None


def parse_identification(lines: Sequence[str]) -> str | None:
    """First meaningful line of +CGMI/+CGMM/+CGMR, without vendor prefixes or padding."""
    for line in lines:
        text = _IDENT_PREFIX_RE.sub("", line.strip()).strip().strip('"').strip()
        if text:
            return text
    return None


def parse_digits(lines: Sequence[str], *, min_length: int = 6) -> str | None:
    """The first run of digits (IMEI, IMSI, ICCID; an ICCID may end in hex 'F')."""
    for line in lines:
        match = re.search(rf"\d{{{min_length},}}[Ff]?", value_of(line))
        if match:
            return match.group(0).rstrip("Ff")
    return None


def parse_memory_index(value: str) -> tuple[str, int] | None:
    """`"SM",3` from +CMTI / +CDSI."""
    fields = split_fields(value)
    if len(fields) < 2:
        return None
    index = _int(fields[1])
    return (fields[0], index) if index is not None else None


def parse_pdu_length(value: str) -> int | None:
    """<length> from `+CMT: [<alpha>],<length>` or `+CDS: <length>`."""
    return _int(split_fields(value)[-1])
