"""TS 27.005 commands: formats, storage (+CPMS/+CMGR/+CMGL/+CMGD), routing (+CNMI) and sending."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

from gateway.sim import receive
from gateway.sim.atargs import decode_charset, encode_charset, int_arg, str_arg, text_time
from gateway.sim.atparse import AtCommand
from gateway.sim.atresult import OK, CmsError, PlainError, Reply, lines
from gateway.sim.storage import (
    STAT_ALL,
    STAT_BY_TEXT,
    STAT_REC_UNREAD,
    STAT_TEXT,
    Memory,
    StoredMessage,
)
from gateway.sms import Deliver, PduError, StatusReport, Submit, decode_pdu, encode_submit

if TYPE_CHECKING:
    from gateway.sim.modem import SimModem

Handler = Callable[["SimModem", AtCommand], Reply]


def sms_ready(modem: SimModem) -> None:
    if modem.sim.state == "SIM PIN":
        raise CmsError(311)
    if modem.sim.state == "SIM PUK":
        raise CmsError(316)


def _ranges(values: tuple[int, ...]) -> str:
    if len(values) > 2 and values == tuple(range(values[0], values[-1] + 1)):
        return f"({values[0]}-{values[-1]})"
    return "(" + ",".join(str(v) for v in values) + ")"


def _toa(number: str) -> int:
    return 145 if number.startswith("+") else 129


# ---------------------------------------------------------------- settings


def _cmgf(modem: SimModem, command: AtCommand) -> Reply:
    if command.kind == "read":
        return lines(f"+CMGF: {modem.settings.cmgf}")
    if command.kind == "test":
        return lines("+CMGF: (0,1)")
    if command.kind != "set":
        raise PlainError()
    modem.settings.cmgf = int_arg(command, 0, default=0, allowed=(0, 1), error=CmsError(302))
    return OK


def _csms(modem: SimModem, command: AtCommand) -> Reply:
    if command.kind == "read":
        return lines(f"+CSMS: {modem.settings.csms},1,1,1")
    if command.kind == "test":
        return lines("+CSMS: (0,1)")
    if command.kind != "set":
        raise PlainError()
    modem.settings.csms = int_arg(command, 0, allowed=(0, 1), error=CmsError(303))
    return lines("+CSMS: 1,1,1")


def _csca(modem: SimModem, command: AtCommand) -> Reply:
    if command.kind == "test":
        return OK
    sms_ready(modem)
    if command.kind == "read":
        smsc = modem.smsc
        return lines(f'+CSCA: "{smsc}",{_toa(smsc)}')
    if command.kind != "set":
        raise PlainError()
    number = str_arg(command, 0)
    if not number:
        raise CmsError(304 if modem.settings.cmgf == 0 else 305)
    modem.smsc = decode_charset(modem, number)
    return OK


def _csmp(modem: SimModem, command: AtCommand) -> Reply:
    if command.kind == "read":
        return lines("+CSMP: " + ",".join(str(v) for v in modem.settings.csmp))
    if command.kind == "test":
        return OK
    if command.kind != "set":
        raise PlainError()
    current = modem.settings.csmp
    error = CmsError(305)
    modem.settings.csmp = (
        int_arg(command, 0, default=current[0], allowed=range(256), error=error),
        int_arg(command, 1, default=current[1], allowed=range(256), error=error),
        int_arg(command, 2, default=current[2], allowed=range(256), error=error),
        int_arg(command, 3, default=current[3], allowed=range(256), error=error),
    )
    return OK


def _cpms(modem: SimModem, command: AtCommand) -> Reply:
    profile = modem.profile
    choices = profile.cpms_choices
    if command.kind == "test":
        groups = ["(" + ",".join(f'"{m}"' for m in group) + ")" for group in choices]
        if profile.cpms_test_format == "nested":
            return lines("+CPMS: (" + ",".join(groups) + ")")
        return lines("+CPMS: " + ",".join(groups))
    sms_ready(modem)
    shown = modem.settings.cpms[: len(choices)]
    if command.kind == "read":
        memories = [modem.storage[name] for name in shown]
        parts = [f'"{m.name}",{m.used},{m.total}' for m in memories]
        return lines("+CPMS: " + ",".join(parts))
    if command.kind != "set":
        raise PlainError()
    count = len(command.args)
    if not profile.cpms_min_args <= count <= min(profile.cpms_max_args, len(choices)):
        raise CmsError(302)
    wanted: list[str] = []
    for i, arg in enumerate(command.args):
        if arg is None or arg.value.upper() not in choices[i]:
            raise CmsError(302)
        wanted.append(arg.value.upper())
    modem.settings.cpms[:count] = wanted
    shown = modem.settings.cpms[: len(choices)]
    counts = [f"{modem.storage[n].used},{modem.storage[n].total}" for n in shown]
    return lines("+CPMS: " + ",".join(counts))


def _cnmi(modem: SimModem, command: AtCommand) -> Reply:
    ranges = modem.profile.cnmi_ranges
    if command.kind == "read":
        return lines("+CNMI: " + ",".join(str(v) for v in modem.settings.cnmi))
    if command.kind == "test":
        return lines("+CNMI: " + ",".join(_ranges(r) for r in ranges))
    if command.kind != "set":
        raise PlainError()
    if len(command.args) > 5:
        raise CmsError(303)
    error = CmsError(303)
    values = [int_arg(command, i, default=0, allowed=ranges[i], error=error) for i in range(5)]
    mode, mt, bm, ds, bfr = values
    modem.settings.cnmi = (mode, mt, bm, ds, bfr)
    if mode in (1, 2, 3):
        modem.flush_cnmi_buffer(discard=bfr == 1)
    if mt or ds:
        modem.storage_freed()  # a new route may take what the network holds
    return OK


# ---------------------------------------------------------------- reading and deleting


def _read_memory(modem: SimModem) -> Memory:
    return modem.storage[modem.settings.cpms[0]]


def _describe(modem: SimModem, message: StoredMessage, *, index: int | None) -> tuple[str, ...]:
    """The +CMGR (index None) or +CMGL entry of one stored message, in the current mode."""
    head = "+CMGR: " if index is None else f"+CMGL: {index},"
    if modem.settings.cmgf == 0:
        return (f"{head}{message.stat},,{message.tpdu_length}", message.pdu)
    stat = f'"{STAT_TEXT[message.stat]}"'
    try:
        pdu = decode_pdu(message.pdu)
    except PduError:
        return (f"{head}{stat}", "")
    if isinstance(pdu, StatusReport):
        ra = pdu.recipient.number
        return (
            f'{head}{stat},6,{pdu.mr},"{ra}",{_toa(ra)},"{text_time(pdu.scts)}",'
            f'"{text_time(pdu.discharge_time)}",{pdu.status}',
        )
    if isinstance(pdu, Deliver):
        body = pdu.text if pdu.text is not None else pdu.user_data.hex().upper()
        oa = encode_charset(modem, pdu.originator.number)
        return (f'{head}{stat},"{oa}",,"{text_time(pdu.scts)}"', encode_charset(modem, body))
    body = pdu.text if pdu.text is not None else ""
    return (f'{head}{stat},"{pdu.destination.number}",', encode_charset(modem, body))


def _cmgr(modem: SimModem, command: AtCommand) -> Reply:
    if command.kind == "test":
        return OK
    if command.kind != "set":
        raise PlainError()
    sms_ready(modem)
    error = CmsError(321)
    index = int_arg(command, 0, error=error)
    memory = _read_memory(modem)
    if not memory.valid_index(index):
        raise error
    if memory.name == "SR" and modem.profile.cmgr_sr_fails:
        raise error
    message = memory.get(index)
    if message is None:
        raise error
    memory.mark_read(index)
    return Reply(_describe(modem, message, index=None))


def _cmgl(modem: SimModem, command: AtCommand) -> Reply:
    text_mode = modem.settings.cmgf == 1
    if command.kind == "test":
        if text_mode:
            return lines('+CMGL: ("REC UNREAD","REC READ","STO UNSENT","STO SENT","ALL")')
        return lines("+CMGL: (0-4)")
    if command.kind not in ("set", "exec"):
        raise PlainError()
    sms_ready(modem)
    arg = command.args[0] if command.args else None
    if text_mode:
        error = CmsError(305)
        if arg is not None and not arg.quoted:
            raise error
        stat = STAT_BY_TEXT.get("REC UNREAD" if arg is None else arg.value.upper())
        if stat is None:
            raise error
    else:
        error = CmsError(304)
        if arg is not None and arg.quoted:
            raise error
        stat = int_arg(command, 0, default=STAT_REC_UNREAD, allowed=range(5), error=error)
    memory = _read_memory(modem)
    out: list[str] = []
    for message in memory.listing(STAT_ALL if stat == STAT_ALL else stat):
        out.extend(_describe(modem, message, index=message.index))
        memory.mark_read(message.index)
    return Reply(tuple(out))


def _cmgd(modem: SimModem, command: AtCommand) -> Reply:
    memory = _read_memory(modem)
    if command.kind == "test":
        used = ",".join(str(m.index) for m in memory.snapshot())
        return lines(f"+CMGD: ({used}),(0-4)")
    if command.kind != "set":
        raise PlainError()
    sms_ready(modem)
    error = CmsError(321)
    flag = int_arg(command, 1, default=0, allowed=range(5), error=error)
    if flag == 0:
        index = int_arg(command, 0, error=error)
        if not memory.valid_index(index):
            raise error
        deleted = memory.delete(index)
    else:
        deleted = memory.delete_by_flag(flag) > 0
    if deleted:
        modem.storage_freed()
    return OK


# ---------------------------------------------------------------- sending


def _submit(modem: SimModem, pdu: str, submit: Submit) -> Reply:
    """Hand a decoded SMS-SUBMIT to the network; the modem assigns TP-MR, as real ones do."""
    if not modem.registered or modem.network is None:
        raise CmsError(331)
    failure = modem.faults.take_send_failure()
    mr = modem.next_mr
    modem.next_mr = (mr + 1) % 256
    if failure is not None and not failure.after_network:
        raise CmsError(failure.cms)
    refusal = modem.network.refusal(submit.destination)
    if refusal is not None:
        raise CmsError(refusal)
    modem.network.submit_from_modem(modem, pdu, submit, mr)
    if failure is not None:
        raise CmsError(failure.cms)
    return lines(f"+CMGS: {mr}")


def _cmgs_pdu(modem: SimModem, length: int) -> Callable[[str], Reply]:
    def complete(data: str) -> Reply:
        hex_text = "".join(data.split())
        try:
            raw = bytes.fromhex(hex_text)
        except ValueError:
            raise CmsError(304) from None
        if not raw or len(raw) - 1 - raw[0] != length:
            raise CmsError(304)
        try:
            pdu = decode_pdu(raw)
        except PduError:
            raise CmsError(304) from None
        if not isinstance(pdu, Submit):
            raise CmsError(304)
        return _submit(modem, hex_text.upper(), pdu)

    return complete


def _cmgs_text(modem: SimModem, destination: str) -> Callable[[str], Reply]:
    def complete(data: str) -> Reply:
        text = decode_charset(modem, data)
        fo, _vp, _pid, dcs = modem.settings.csmp
        encoding: Literal["gsm7", "ucs2"] = "ucs2" if dcs & 0x0C == 0x08 else "gsm7"
        try:
            try:
                message = encode_submit(
                    text,
                    destination,
                    encoding=encoding,
                    status_report=bool(fo & 0x20),
                    max_parts=1,
                )
            except PduError:
                message = encode_submit(
                    text, destination, status_report=bool(fo & 0x20), max_parts=1
                )
        except PduError:
            raise CmsError(305) from None
        pdu_hex = message.parts[0].pdu
        pdu = decode_pdu(pdu_hex)
        assert isinstance(pdu, Submit)
        return _submit(modem, pdu_hex, pdu)

    return complete


def _cmgs(modem: SimModem, command: AtCommand) -> Reply:
    if command.kind == "test":
        return OK
    if command.kind != "set":
        raise PlainError()
    sms_ready(modem)
    if modem.settings.cmgf == 0:
        length = int_arg(command, 0, allowed=range(1, 177), error=CmsError(304))
        modem.start_prompt(_cmgs_pdu(modem, length), text_mode=False)
    else:
        destination = str_arg(command, 0, error=CmsError(305))
        if not destination:
            raise CmsError(305)
        modem.start_prompt(_cmgs_text(modem, decode_charset(modem, destination)), text_mode=True)
    return OK


def _cnma(modem: SimModem, command: AtCommand) -> Reply:
    if command.kind == "test":
        return lines("+CNMA: (0-2)")
    if modem.pending_ack is None or modem.settings.csms != 1:
        raise CmsError(340)
    n = int_arg(command, 0, default=0, allowed=(0, 1, 2), error=CmsError(304))
    if len(command.args) > 1 and command.args[1] is not None:
        # An RP-ACK / RP-ERROR PDU follows after a prompt; its content does not matter here.
        def complete(_data: str) -> Reply:
            receive.acknowledge(modem, positive=n != 2)
            return OK

        modem.start_prompt(complete, text_mode=False)
        return OK
    receive.acknowledge(modem, positive=n != 2)
    return OK


HANDLERS: dict[str, Handler] = {
    "+CMGF": _cmgf,
    "+CSMS": _csms,
    "+CSCA": _csca,
    "+CSMP": _csmp,
    "+CPMS": _cpms,
    "+CNMI": _cnmi,
    "+CMGR": _cmgr,
    "+CMGL": _cmgl,
    "+CMGD": _cmgd,
    "+CMGS": _cmgs,
    "+CNMA": _cnma,
}
