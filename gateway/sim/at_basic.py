"""V.25ter basic commands: E, V, Q, Z, &F, I, S-registers and the ones without effect here."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from gateway.sim.atargs import int_arg
from gateway.sim.atparse import AtCommand
from gateway.sim.atresult import OK, CmeError, PlainError, Reply, lines

if TYPE_CHECKING:
    from gateway.sim.modem import SimModem

Handler = Callable[["SimModem", AtCommand], Reply]


def _basic_flag(attr: str) -> Handler:
    def handler(modem: SimModem, command: AtCommand) -> Reply:
        number = command.number if command.args else 0
        if command.kind != "exec" or number not in (0, 1):
            raise PlainError()
        setattr(modem.settings, attr, number == 1)
        return OK

    return handler


def _quiet(modem: SimModem, command: AtCommand) -> Reply:
    number = command.number if command.args else 0
    if command.kind != "exec" or number not in (0, 1):
        raise PlainError()
    modem.settings.quiet = number == 1
    return OK


def _accept(modem: SimModem, command: AtCommand) -> Reply:
    """Basic commands with no effect on an SMS modem (&C, &D, &W, H, X, L, M)."""
    if command.kind == "read":
        raise PlainError()
    return OK


def _reset(modem: SimModem, command: AtCommand) -> Reply:
    if command.kind != "exec" or command.number not in (None, 0):
        raise PlainError()
    modem.reset_settings()
    return OK


def _ati(modem: SimModem, command: AtCommand) -> Reply:
    if command.kind != "exec":
        raise PlainError()
    return Reply(modem.profile.ati_lines)


def _s_register(modem: SimModem, command: AtCommand) -> Reply:
    defaults = {0: 0, 3: 13, 4: 10, 5: 8, 6: 2, 7: 50, 8: 2, 10: 15, 12: 50}
    number = int(command.name[1:])
    if number not in defaults:
        raise PlainError()
    key = command.name
    if command.kind == "read":
        return lines(f"{modem.settings.simple.get(key, defaults[number]):03d}")
    if command.kind == "set":
        modem.settings.simple[key] = int_arg(command, 0, allowed=range(256), error=PlainError())
        return OK
    if command.kind == "test":
        return lines(f"{command.name}: (0-255)")
    raise PlainError()


def _dial(modem: SimModem, command: AtCommand) -> Reply:
    raise CmeError(4)  # a data-only modem: voice calls are not supported


HANDLERS: dict[str, Handler] = {
    "E": _basic_flag("echo"),
    "V": _basic_flag("verbose"),
    "Q": _quiet,
    "Z": _reset,
    "&F": _reset,
    "I": _ati,
    "&C": _accept,
    "&D": _accept,
    "&W": _accept,
    "&K": _accept,
    "H": _accept,
    "X": _accept,
    "L": _accept,
    "M": _accept,
    "D": _dial,
    **{f"S{n}": _s_register for n in (0, 3, 4, 5, 6, 7, 8, 10, 12)},
}
