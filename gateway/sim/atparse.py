"""V.25ter command-line parsing: the text after "AT" -> the commands it chains.

Pure: no state, no I/O. Basic commands (E0, V1, &F, S7=60, I) may follow one another
directly; extended commands (+CMGF=0, ^SYSCFG?, $QCSIMSTAT=?) end at ';' or the line end.
Spaces outside quoted strings are ignored, names are case-insensitive, strings are not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

CommandKind = Literal["exec", "read", "test", "set"]

_EXTENDED_PREFIXES = "+^$%#*!@"
_NAME_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!%-./:_")
# Basic commands taking an optional decimal number right after their letter (V.25ter 5.3.1).
_BASIC_LETTERS = set("ABEHILMOPQTVXZ")


class AtSyntaxError(ValueError):
    """The command line breaks V.25ter syntax at `position` (an index into the line)."""

    def __init__(self, reason: str, position: int) -> None:
        super().__init__(f"{reason} at column {position}")
        self.reason = reason
        self.position = position


@dataclass(frozen=True, slots=True)
class Arg:
    """One parameter of a set command: `quoted` tells "1" from 1."""

    value: str
    quoted: bool = False


@dataclass(frozen=True, slots=True)
class AtCommand:
    """One command of a line. `name` is upper-case: "+CMGS", "E", "&F", "S7", "D"."""

    name: str
    kind: CommandKind
    args: tuple[Arg | None, ...] = ()
    raw: str = ""

    @property
    def number(self) -> int | None:
        """The numeric argument of a basic command (E1 -> 1), None when absent."""
        if not self.args or self.args[0] is None:
            return None
        try:
            return int(self.args[0].value)
        except ValueError:
            return None


@dataclass(frozen=True, slots=True)
class ParsedLine:
    """The commands before a syntax error (executed first, as a DCE does), and the error."""

    commands: tuple[AtCommand, ...]
    error: AtSyntaxError | None = None


def find_prefix(line: str) -> int | None:
    """Index just after the "AT" (or "at") prefix; characters before it are line noise."""
    upper = line.upper()
    index = upper.find("AT")
    return None if index < 0 else index + 2


def _strip_spaces(body: str) -> str:
    """Remove spaces outside quoted strings (V.25ter: they are ignored)."""
    out: list[str] = []
    quoted = False
    for ch in body:
        if ch == '"':
            quoted = not quoted
        if ch == " " and not quoted:
            continue
        out.append(ch)
    return "".join(out)


def parse_args(text: str, position: int = 0) -> tuple[Arg | None, ...]:
    """Comma-separated parameters; an empty one is None, quoted strings keep their commas."""
    args: list[Arg | None] = []
    i = 0
    n = len(text)
    if n == 0:
        return ()
    while True:
        if i < n and text[i] == '"':
            end = text.find('"', i + 1)
            if end < 0:
                raise AtSyntaxError("unterminated string", position + i)
            args.append(Arg(text[i + 1 : end], quoted=True))
            i = end + 1
            if i < n and text[i] != ",":
                raise AtSyntaxError("text after a string", position + i)
        else:
            end = text.find(",", i)
            if end < 0:
                end = n
            token = text[i:end]
            if '"' in token:
                raise AtSyntaxError("quote inside a parameter", position + i)
            args.append(Arg(token.upper()) if token else None)
            i = end
        if i >= n:
            break
        i += 1  # the comma
        if i >= n:
            args.append(None)
            break
    return tuple(args)


def _extended(body: str, i: int) -> tuple[AtCommand, int]:
    start = i
    i += 1  # the prefix character
    name_end = i
    while name_end < len(body) and body[name_end].upper() in _NAME_CHARS:
        name_end += 1
    if name_end == i:
        raise AtSyntaxError("empty command name", i)
    name = body[start:name_end].upper()
    # The command ends at the first ';' outside a string.
    j = name_end
    quoted = False
    while j < len(body):
        ch = body[j]
        if ch == '"':
            quoted = not quoted
        elif ch == ";" and not quoted:
            break
        j += 1
    if quoted:
        raise AtSyntaxError("unterminated string", name_end)
    rest = body[name_end:j]
    raw = body[start:j]
    nxt = j + 1 if j < len(body) else j
    if rest == "":
        return AtCommand(name, "exec", (), raw), nxt
    if rest == "?":
        return AtCommand(name, "read", (), raw), nxt
    if rest == "=?":
        return AtCommand(name, "test", (), raw), nxt
    if rest.startswith("="):
        return AtCommand(name, "set", parse_args(rest[1:], name_end + 1), raw), nxt
    raise AtSyntaxError("unexpected characters after the command name", name_end)


def _basic(body: str, i: int) -> tuple[AtCommand, int]:
    start = i
    ch = body[i].upper()
    if ch == "D":  # dial: the rest of the line up to ';' is the dial string
        end = body.find(";", i)
        stop = len(body) if end < 0 else end + 1
        dial = body[i + 1 : stop]
        return AtCommand("D", "exec", (Arg(dial),), body[start:stop]), stop
    if ch == "&":
        if i + 1 >= len(body) or not body[i + 1].isalpha():
            raise AtSyntaxError("'&' without a letter", i)
        name = "&" + body[i + 1].upper()
        i += 2
    elif ch == "S":
        j = i + 1
        while j < len(body) and body[j].isdigit():
            j += 1
        if j == i + 1:
            raise AtSyntaxError("S-parameter without a number", i)
        name = "S" + str(int(body[i + 1 : j]))
        if body.startswith("=?", j):
            return AtCommand(name, "test", (), body[start : j + 2]), j + 2
        if body.startswith("?", j):
            return AtCommand(name, "read", (), body[start : j + 1]), j + 1
        if body.startswith("=", j):
            k = j + 1
            while k < len(body) and body[k].isdigit():
                k += 1
            value = body[j + 1 : k]
            arg = Arg(value) if value else None
            return AtCommand(name, "set", (arg,), body[start:k]), k
        raise AtSyntaxError("S-parameter without '=' or '?'", j)
    elif ch in _BASIC_LETTERS:
        name = ch
        i += 1
    else:
        raise AtSyntaxError(f"unknown command character {body[i]!r}", i)
    j = i
    while j < len(body) and body[j].isdigit():
        j += 1
    args: tuple[Arg | None, ...] = (Arg(body[i:j]),) if j > i else ()
    if body.startswith("?", j):
        return AtCommand(name, "read", (), body[start : j + 1]), j + 1
    return AtCommand(name, "exec", args, body[start:j]), j


def parse_line(body: str) -> ParsedLine:
    """Parse what follows "AT" on a command line (without the terminating CR)."""
    text = _strip_spaces(body)
    commands: list[AtCommand] = []
    i = 0
    try:
        while i < len(text):
            ch = text[i]
            if ch == ";":
                i += 1
                continue
            if ch in _EXTENDED_PREFIXES:
                command, i = _extended(text, i)
            else:
                command, i = _basic(text, i)
            commands.append(command)
    except AtSyntaxError as exc:
        return ParsedLine(tuple(commands), exc)
    return ParsedLine(tuple(commands))
