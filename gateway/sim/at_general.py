"""The TS 27.007 commands SMS clients use: identity, SIM, network, USSD."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from gateway.sim.atargs import decode_charset, encode_charset, int_arg, str_arg
from gateway.sim.atparse import AtCommand
from gateway.sim.atresult import OK, CmeError, PlainError, Reply, lines

if TYPE_CHECKING:
    from gateway.sim.modem import SimModem

Handler = Callable[["SimModem", AtCommand], Reply]
USSD_REPLY_DELAY_S = 0.3
LAC = "00C3"
CELL_ID = "0000A13F"


def _require_sim(modem: SimModem) -> None:
    if modem.sim.state == "SIM PIN":
        raise CmeError(11)
    if modem.sim.state == "SIM PUK":
        raise CmeError(12)


def _identity(value: Callable[[SimModem], str]) -> Handler:
    def handler(modem: SimModem, command: AtCommand) -> Reply:
        if command.kind == "test":
            return OK
        if command.kind != "exec":
            raise PlainError()
        return lines(value(modem))

    return handler


# ---------------------------------------------------------------- TS 27.007


def _cmee(modem: SimModem, command: AtCommand) -> Reply:
    if command.kind == "read":
        return lines(f"+CMEE: {modem.settings.cmee}")
    if command.kind == "test":
        return lines("+CMEE: (0-2)")
    value = int_arg(command, 0, default=0, allowed=(0, 1, 2))
    modem.settings.cmee = value
    return OK


def _cpin(modem: SimModem, command: AtCommand) -> Reply:
    sim = modem.sim
    if command.kind == "read":
        return Reply((f"+CPIN: {sim.state}",), final=not modem.profile.cpin_read_without_ok)
    if command.kind == "test":
        return OK
    if command.kind != "set":
        raise PlainError()
    code = str_arg(command, 0)
    new_pin = str_arg(command, 1)
    if code is None:
        raise CmeError(50)
    if sim.state == "READY":
        raise CmeError(3)
    if sim.state == "SIM PIN":
        if not sim.enter_pin(code):
            raise CmeError(16)
    else:
        if new_pin is None or not sim.enter_puk(code, new_pin):
            raise CmeError(16)
    modem.call_later(0.01, lambda: modem.emit_urc("+CPIN: READY"))
    return OK


def _csq(modem: SimModem, command: AtCommand) -> Reply:
    if command.kind == "test":
        return lines("+CSQ: (0-31,99),(0-7,99)")
    if command.kind != "exec":
        raise PlainError()
    rssi = modem.rssi if modem.cfun == 1 else 99
    return lines(f"+CSQ: {rssi},99")


def _registration(name: str, attr: str) -> Handler:
    def handler(modem: SimModem, command: AtCommand) -> Reply:
        if command.kind == "test":
            return lines(f"{name}: (0-2)")
        if command.kind == "read":
            n = getattr(modem.settings, attr)
            text = f"{name}: {n},{modem.reg_stat}"
            if n == 2 and modem.reg_stat in (1, 5):
                text += f',"{LAC}","{CELL_ID}"'
            return lines(text)
        if command.kind != "set":
            raise PlainError()
        setattr(modem.settings, attr, int_arg(command, 0, default=0, allowed=(0, 1, 2)))
        return OK

    return handler


def registration_urcs(modem: SimModem) -> None:
    """+CREG / +CGREG / +CEREG unsolicited codes after a registration change."""
    for name, n in (
        ("+CREG", modem.settings.creg),
        ("+CGREG", modem.settings.cgreg),
        ("+CEREG", modem.settings.cereg),
    ):
        if n == 1:
            modem.emit_urc(f"{name}: {modem.reg_stat}")
        elif n == 2:
            extra = f',"{LAC}","{CELL_ID}"' if modem.reg_stat in (1, 5) else ""
            modem.emit_urc(f"{name}: {modem.reg_stat}{extra}")


def _cops(modem: SimModem, command: AtCommand) -> Reply:
    p = modem.profile
    if command.kind == "test":
        return lines(
            f'+COPS: (2,"{p.operator_long}","{p.operator_short}","{p.operator_numeric}",'
            f"{p.access_technology}),,(0-4),(0-2)"
        )
    if command.kind == "read":
        _require_sim(modem)
        if not modem.registered:
            return lines("+COPS: 0")
        fmt = modem.settings.cops_format
        name = {0: p.operator_long, 1: p.operator_short, 2: p.operator_numeric}[fmt]
        return lines(f'+COPS: 0,{fmt},"{name}",{p.access_technology}')
    if command.kind != "set":
        raise PlainError()
    mode = int_arg(command, 0, default=0, allowed=(0, 1, 2, 3, 4))
    if mode == 3:
        modem.settings.cops_format = int_arg(command, 1, default=0, allowed=(0, 1, 2))
    elif mode == 2:
        modem.set_registration(0)
    elif mode in (1, 4):
        oper = str_arg(command, 2)
        if oper not in (p.operator_long, p.operator_short, p.operator_numeric):
            raise CmeError(30)
    return OK


def _cfun(modem: SimModem, command: AtCommand) -> Reply:
    if command.kind == "read":
        return lines(f"+CFUN: {modem.cfun}")
    if command.kind == "test":
        return lines("+CFUN: (0,1,4),(0,1)")
    if command.kind != "set":
        raise PlainError()
    fun = int_arg(command, 0, allowed=(0, 1, 4))
    reset = int_arg(command, 1, default=0, allowed=(0, 1))
    if reset == 1:
        modem.call_later(0.01, modem.reboot)
        return OK
    if fun == 1 and modem.profile.busy_after_cfun:
        modem.set_busy_lines(modem.profile.busy_after_cfun)  # Wavecom restarts its stack
    if fun == modem.cfun:
        return OK
    modem.cfun = fun
    if fun == 1:
        modem.call_later(modem.register_delay_s, lambda: modem.set_registration(1))
    else:
        modem.set_registration(0)
    return OK


def _clac(modem: SimModem, command: AtCommand) -> Reply:
    if not modem.profile.clac_supported:
        raise PlainError(unknown=True)
    if command.kind == "test":
        return OK
    if command.kind != "exec":
        raise PlainError()
    from gateway.sim.modem import HANDLERS

    ccid = {"+CCID", "+CICCID", "+QCCID", "^ICCID"} - {modem.profile.ccid_command}
    names = sorted(
        {n for n in HANDLERS if n.startswith(("+", "^")) and n not in ccid}
        | set(modem.profile.extra_commands)
    )
    return Reply(tuple(f"AT{n}" for n in names))


def _cimi(modem: SimModem) -> str:
    _require_sim(modem)
    return modem.imsi


def _ccid(modem: SimModem, command: AtCommand) -> Reply:
    if command.name != modem.profile.ccid_command:
        raise PlainError(unknown=True)
    if command.kind == "test":
        return OK
    if command.kind not in ("exec", "read"):
        raise PlainError()
    _require_sim(modem)
    return lines(f"{command.name}: {modem.iccid}")


def _cnum(modem: SimModem, command: AtCommand) -> Reply:
    if command.kind == "test":
        return OK
    if command.kind != "exec":
        raise PlainError()
    _require_sim(modem)
    toa = 145 if modem.msisdn.startswith("+") else 129
    return lines(f'+CNUM: "","{modem.msisdn}",{toa}')


def _cscs(modem: SimModem, command: AtCommand) -> Reply:
    choices = modem.profile.cscs_choices
    if command.kind == "read":
        return lines(f'+CSCS: "{modem.settings.cscs}"')
    if command.kind == "test":
        return lines("+CSCS: (" + ",".join(f'"{c}"' for c in choices) + ")")
    if command.kind != "set":
        raise PlainError()
    value = str_arg(command, 0)
    if value is None or value.upper() not in choices:
        raise CmeError(4)
    modem.settings.cscs = value.upper()
    return OK


def _cusd(modem: SimModem, command: AtCommand) -> Reply:
    if command.kind == "read":
        return lines(f"+CUSD: {modem.settings.cusd}")
    if command.kind == "test":
        return lines("+CUSD: (0-2)")
    if command.kind != "set":
        raise PlainError()
    n = int_arg(command, 0, default=0, allowed=(0, 1, 2))
    request = str_arg(command, 1)
    if n == 2:
        modem.ussd_session = False
        return OK
    modem.settings.cusd = n
    if request is None:
        return OK
    _require_sim(modem)
    if not modem.registered or modem.network is None:
        raise CmeError(30)
    code = decode_charset(modem, request)
    answer = modem.network.ussd(modem, code)

    def respond() -> None:
        if modem.settings.cusd == 1:
            modem.emit_urc(f'+CUSD: 0,"{encode_charset(modem, answer)}",15')

    modem.call_later(USSD_REPLY_DELAY_S, respond)
    return OK


def _simple(name: str, allowed: tuple[int, ...], default: int, *, read: bool = True) -> Handler:
    """A numeric setting with no further effect in the simulation (+CLIP, +CRC, +CMMS...)."""

    def handler(modem: SimModem, command: AtCommand) -> Reply:
        if command.kind == "test":
            return lines(f"{name}: ({','.join(str(a) for a in allowed)})")
        if command.kind == "read" and read:
            return lines(f"{name}: {modem.settings.simple.get(name, default)}")
        if command.kind == "set":
            modem.settings.simple[name] = int_arg(command, 0, allowed=allowed)
            return OK
        if command.kind == "exec":
            return OK
        raise PlainError()

    return handler


def _cpas(modem: SimModem, command: AtCommand) -> Reply:
    if command.kind == "test":
        return lines("+CPAS: (0-5)")
    return lines("+CPAS: 0")


def _cgatt(modem: SimModem, command: AtCommand) -> Reply:
    if command.kind == "read":
        return lines(f"+CGATT: {1 if modem.registered else 0}")
    if command.kind == "test":
        return lines("+CGATT: (0,1)")
    if command.kind == "set":
        int_arg(command, 0, allowed=(0, 1))
        return OK
    raise PlainError()


def _no_calls(modem: SimModem, command: AtCommand) -> Reply:
    """+CHUP, +CLCC: no calls exist on an SMS modem, so these succeed doing nothing."""
    return OK


def vendor_command(modem: SimModem, command: AtCommand) -> Reply:
    """A profile's vendor command: accepted, with a neutral value when read."""
    if command.kind == "read":
        return lines(f"{command.name}: 0")
    return OK


HANDLERS: dict[str, Handler] = {
    "+CGMI": _identity(lambda m: m.profile.manufacturer),
    "+GMI": _identity(lambda m: m.profile.manufacturer),
    "+CGMM": _identity(lambda m: m.profile.model),
    "+GMM": _identity(lambda m: m.profile.model),
    "+CGMR": _identity(lambda m: m.profile.revision),
    "+GMR": _identity(lambda m: m.profile.revision),
    "+CGSN": _identity(lambda m: m.profile.imei),
    "+GSN": _identity(lambda m: m.profile.imei),
    "+CIMI": _identity(_cimi),
    "+CNUM": _cnum,
    "+CMEE": _cmee,
    "+CPIN": _cpin,
    "+CSQ": _csq,
    "+CREG": _registration("+CREG", "creg"),
    "+CGREG": _registration("+CGREG", "cgreg"),
    "+CEREG": _registration("+CEREG", "cereg"),
    "+COPS": _cops,
    "+CFUN": _cfun,
    "+CLAC": _clac,
    "+CSCS": _cscs,
    "+CUSD": _cusd,
    "+CPAS": _cpas,
    "+CGATT": _cgatt,
    "+CHUP": _no_calls,
    "+CLCC": _no_calls,
    "+CLIP": _simple("+CLIP", (0, 1), 0),
    "+CRC": _simple("+CRC", (0, 1), 0),
    "+CVHU": _simple("+CVHU", (0, 1), 1),
    "+CMMS": _simple("+CMMS", (0, 1, 2), 0),
}
for _ccid_name in ("+CCID", "+CICCID", "+QCCID", "^ICCID"):
    HANDLERS[_ccid_name] = _ccid
