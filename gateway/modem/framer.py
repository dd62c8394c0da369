"""Pure AT framing (V.25ter): bytes in, events out (lines, the `> ` prompt, final results, URCs).

No clock and no I/O. The framer is told which command is pending and which response prefixes it
expects, so `+CREG: 0,1` is that command's answer inside an `AT+CREG?` and a URC anywhere else.
Garbage and invalid UTF-8 never raise: a line that is not text (invalid UTF-8, control bytes) is
reported as Noise and never reaches a command; the framer resynchronises at the next line end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

FinalKind = Literal["ok", "error", "cme", "cms"]

DEFAULT_MAX_LINE_BYTES = 4096


@dataclass(frozen=True, slots=True)
class Line:
    """An information line of the pending command (or an unknown unsolicited line)."""

    text: str


@dataclass(frozen=True, slots=True)
class Noise:
    """A line that is not V.25ter text (line noise, a modem's boot garbage); never dispatched."""

    data: bytes


@dataclass(frozen=True, slots=True)
class Prompt:
    """The `> ` after AT+CMGS=<n>: the modem waits for the PDU."""


@dataclass(frozen=True, slots=True)
class Final:
    """A final result code; it ends the pending command."""

    text: str
    kind: FinalKind
    code: int | None = None

    @property
    def ok(self) -> bool:
        return self.kind == "ok"


@dataclass(frozen=True, slots=True)
class Urc:
    """An unsolicited result code. `prefix` is e.g. '+CMTI', '^RSSI' or 'RDY' (no colon).

    For +CMT, +CDS and +CBM, `pdu` is the hex line that followed the header (None if the next line
    was not hex, which only happens on a corrupted stream).
    """

    prefix: str
    text: str
    pdu: str | None = None

    @property
    def value(self) -> str:
        """The text after `PREFIX:`, stripped (the whole text for a bare word such as RING)."""
        _head, sep, rest = self.text.partition(":")
        return rest.strip() if sep else self.text


Event = Line | Prompt | Final | Urc | Noise


@dataclass(frozen=True, slots=True)
class PendingCommand:
    command: str
    prefixes: frozenset[str]
    expect_prompt: bool


# URCs announced by `PREFIX: ...`. A prefix that a pending command expects is that command's answer.
URC_PREFIXES: frozenset[str] = frozenset(
    {
        "+CMTI", "+CMT", "+CDSI", "+CDS", "+CBMI", "+CBM",
        "+CREG", "+CGREG", "+CEREG", "+C5GREG",
        "+CUSD", "+CPIN", "+CRING", "+CLIP", "+CCWA", "+CIEV", "+CFUN",
        "+CTZV", "+CTZE", "+CTZU", "+QIND", "+QUSIM", "+CSQN", "+STIN", "+CPINR",
        "^RSSI", "^HCSQ", "^BOOT", "^MODE", "^SIMST", "^SRVST", "^SYSSTART", "^STIN", "^CEND",
        "^ORIG", "^CONF", "^CONN", "^DSFLOWRPT", "^CSNR", "^NDISSTAT", "^RFSWITCH", "^SMMEMFULL",
        "*PSUTTZ", "*PSNWID", "*PSDST",
    }
)  # fmt: skip
# URCs that are a bare word on their own line.
URC_WORDS: frozenset[str] = frozenset(
    {"RING", "RDY", "SMS READY", "CALL READY", "PB DONE", "NORMAL POWER DOWN", "+PACSP0", "+PACSP1"}
)
# URC headers followed by a PDU line (PDU mode, TS 27.005 3.4.1).
URC_WITH_PDU: frozenset[str] = frozenset({"+CMT", "+CDS", "+CBM"})

_FINAL_WORDS: dict[str, FinalKind] = {
    "OK": "ok",
    "ERROR": "error",
    "NO CARRIER": "error",
    "BUSY": "error",
    "NO ANSWER": "error",
    "NO DIALTONE": "error",
    "COMMAND NOT SUPPORT": "error",  # Huawei
    "TOO MANY PARAMETERS": "error",  # Huawei
}
_LINE_ENDS = b"\r\n"
_PREFIX_RE = re.compile(r"^([+^*$%][A-Za-z0-9]+)\s*:")
_COMMAND_NAME_RE = re.compile(r"^\s*([+^*$%][A-Za-z0-9]+)")
_HEX_RE = re.compile(r"^[0-9A-Fa-f]+$")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# Padding some modems send around lines at boot; stripped before deciding whether it is text.
_PADDING = b"\x00\xff \t"


def response_prefixes(command: str) -> frozenset[str]:
    """The information-response prefixes a command line can produce.

    'AT+CMEE=1;+CREG?' -> {'+CMEE', '+CREG'}; 'ATE0' -> {}.
    """
    body = command.strip()
    if body[:2].upper() == "AT":
        body = body[2:]
    names = set()
    for part in body.split(";"):
        match = _COMMAND_NAME_RE.match(part)
        if match:
            names.add(match.group(1).upper())
    return frozenset(names)


def parse_final(text: str) -> Final | None:
    """The final result code that `text` is, or None."""
    upper = text.upper()
    kind = _FINAL_WORDS.get(upper)
    if kind is not None:
        return Final(text, kind)
    for prefix, error_kind in (("+CME ERROR", "cme"), ("+CMS ERROR", "cms")):
        if upper.startswith(prefix):
            rest = text[len(prefix) :].lstrip(" :")
            code = int(rest) if rest.isdigit() else None
            return Final(text, error_kind, code)  # type: ignore[arg-type]  # literal from the tuple
    return None


def urc_prefix(text: str) -> str | None:
    """The URC prefix of a line if it is a known URC, regardless of what is pending."""
    match = _PREFIX_RE.match(text)
    if match:
        prefix = match.group(1).upper()
        return prefix if prefix in URC_PREFIXES else None
    upper = text.upper()
    return upper if upper in URC_WORDS else None


def _decode(raw: bytes) -> str | None:
    """The text of a line, or None if it is noise."""
    raw = raw.strip(_PADDING)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if _CONTROL_RE.search(text.replace("\x1a", "")):  # an echoed Ctrl-Z is harmless
        return None
    return text.replace("\x1a", "").strip()


class Framer:
    """Incremental framer; feed it bytes in chunks of any size and get the same events."""

    def __init__(self, *, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> None:
        self._buffer = bytearray()
        self._max_line_bytes = max_line_bytes
        self._discarding = False  # dropping an over-long line up to its end
        self._pending: PendingCommand | None = None
        self._pdu_header: Urc | None = None  # a +CMT/+CDS header waiting for its PDU line
        self.discarded_bytes = 0

    @property
    def pending(self) -> PendingCommand | None:
        return self._pending

    def begin(
        self,
        command: str,
        *,
        prefixes: frozenset[str] | None = None,
        expect_prompt: bool = False,
    ) -> None:
        """A command was (about to be) written: its answer lines now belong to it."""
        expected = response_prefixes(command) if prefixes is None else prefixes
        self._pending = PendingCommand(command.strip(), expected, expect_prompt)

    def end(self) -> None:
        """Forget the pending command (timed out or abandoned); later lines are unsolicited."""
        self._pending = None

    def feed(self, data: bytes) -> list[Event]:
        events: list[Event] = []
        self._buffer += data
        buffer = self._buffer
        while buffer:
            if self._discarding:
                end = _find_line_end(buffer)
                if end < 0:
                    self.discarded_bytes += len(buffer)
                    buffer.clear()
                    break
                self.discarded_bytes += end
                del buffer[:end]
                self._discarding = False
                continue
            start = 0
            while start < len(buffer) and buffer[start] in _LINE_ENDS:
                start += 1
            if start:
                del buffer[:start]
                continue
            pending = self._pending
            if pending is not None and pending.expect_prompt and buffer[0] == 0x3E:  # '>'
                self._flush_pdu_header(events)
                cut = 2 if len(buffer) > 1 and buffer[1] == 0x20 else 1
                del buffer[:cut]
                self._pending = PendingCommand(pending.command, pending.prefixes, False)
                events.append(Prompt())
                continue
            end = _find_line_end(buffer)
            if end < 0:
                if len(buffer) > self._max_line_bytes:
                    self.discarded_bytes += len(buffer)
                    buffer.clear()
                    self._discarding = True
                break
            raw = bytes(buffer[:end])
            del buffer[:end]
            if len(raw) > self._max_line_bytes:
                self.discarded_bytes += len(raw)
                continue
            text = _decode(raw)
            if text is None:
                self.discarded_bytes += len(raw)
                events.append(Noise(raw))
                continue
            self._line(text, events)
        return events

    def _line(self, text: str, events: list[Event]) -> None:
        if not text:
            return
        header = self._pdu_header
        if header is not None:
            self._pdu_header = None
            if _HEX_RE.match(text):
                events.append(Urc(header.prefix, header.text, text.upper()))
                return
            events.append(header)  # corrupted stream: report the header without its PDU
        final = parse_final(text)
        pending = self._pending
        if final is not None:
            self._pending = None
            events.append(final)
            return
        prefix = urc_prefix(text)
        if prefix is not None and (pending is None or prefix not in pending.prefixes):
            urc = Urc(prefix, text)
            if prefix in URC_WITH_PDU:
                self._pdu_header = urc
            else:
                events.append(urc)
            return
        if pending is not None and text == pending.command:
            return  # echo (before ATE0 took effect, or after a modem reset)
        events.append(Line(text))

    def _flush_pdu_header(self, events: list[Event]) -> None:
        if self._pdu_header is not None:
            events.append(self._pdu_header)
            self._pdu_header = None


def _find_line_end(buffer: bytearray) -> int:
    cr = buffer.find(b"\r")
    lf = buffer.find(b"\n")
    if cr < 0:
        return lf
    if lf < 0:
        return cr
    return min(cr, lf)
