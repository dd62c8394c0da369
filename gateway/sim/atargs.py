"""Reading AT command parameters and the +CSCS character sets; text-mode timestamps."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from gateway.sim.atparse import AtCommand
from gateway.sim.atresult import CmeError

if TYPE_CHECKING:
    from gateway.sim.modem import SimModem


def int_arg(
    command: AtCommand,
    index: int,
    *,
    default: int | None = None,
    allowed: tuple[int, ...] | range | None = None,
    error: Exception | None = None,
) -> int:
    """The integer parameter at `index` (a missing one takes `default`), else `error`."""
    fail = error if error is not None else CmeError(50)
    arg = command.args[index] if index < len(command.args) else None
    if arg is None:
        if default is None:
            raise fail
        return default
    try:
        value = int(arg.value)
    except ValueError:
        raise fail from None
    if allowed is not None and value not in allowed:
        raise fail
    return value


def str_arg(command: AtCommand, index: int, *, error: Exception | None = None) -> str | None:
    arg = command.args[index] if index < len(command.args) else None
    if arg is None:
        return None
    if not arg.quoted and error is not None:
        raise error
    return arg.value


def text_time(when: datetime) -> str:
    """Text-mode timestamp: "yy/MM/dd,hh:mm:ss±zz", zz in quarter hours."""
    offset = when.utcoffset()
    quarters = 0 if offset is None else int(offset.total_seconds() // 900)
    sign = "+" if quarters >= 0 else "-"
    return when.strftime("%y/%m/%d,%H:%M:%S") + f"{sign}{abs(quarters):02d}"


def decode_charset(modem: SimModem, text: str) -> str:
    """A string parameter as the TE wrote it in the +CSCS character set."""
    cs = modem.settings.cscs
    try:
        if cs == "UCS2":
            return bytes.fromhex(text).decode("utf-16-be")
        if cs == "HEX":
            return bytes.fromhex(text).decode("latin-1")
    except ValueError:
        raise CmeError(50) from None
    return text


def encode_charset(modem: SimModem, text: str) -> str:
    cs = modem.settings.cscs
    if cs == "UCS2":
        return text.encode("utf-16-be").hex().upper()
    if cs == "HEX":
        return text.encode("latin-1", errors="replace").hex().upper()
    return text
