"""A simulated GSM modem: bytes in, V.25ter-framed bytes out, with the state of a real device.

The modem owns its command-line editor, the `> ` prompt of +CMGS, result-code framing, URC
routing (+CNMI) and the timers of resets and acknowledgements. The commands themselves live in
at_general.py (TS 27.007 / V.25ter) and at_sms.py (TS 27.005).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from gateway.sim import at_basic, at_general, at_sms, receive
from gateway.sim.atparse import AtCommand, find_prefix, parse_line
from gateway.sim.atresult import AtError, CmeError, CmsError, PlainError, Reply
from gateway.sim.faults import FaultState
from gateway.sim.profiles import GENERIC, Profile, get_profile
from gateway.sim.state import ModemSettings, SimCard
from gateway.sim.storage import Storage
from gateway.sim.wire import ModemLink, Output, TranscriptEntry, error_text, frame_final, frame_info

if TYPE_CHECKING:
    from gateway.sim.network import SimNetwork

CR = 0x0D
LF = 0x0A
BACKSPACE = 0x08
CTRL_Z = 0x1A
ESC = 0x1B
MAX_COMMAND_LINE = 1024
MAX_PROMPT_DATA = 2048
TRANSCRIPT_SIZE = 400

Handler = Callable[["SimModem", AtCommand], Reply]
HANDLERS: dict[str, Handler] = {**at_basic.HANDLERS, **at_general.HANDLERS, **at_sms.HANDLERS}

Power = Literal["on", "booting", "off"]


@dataclass(slots=True)
class Prompt:
    """A pending `> ` prompt: data until Ctrl-Z goes to `complete`, ESC cancels."""

    complete: Callable[[str], Reply]
    text_mode: bool
    data: bytearray


class SimModem:
    """One simulated modem, addressed by `name` locally and by `msisdn` on the network."""

    def __init__(
        self,
        name: str,
        msisdn: str,
        profile: Profile | str = GENERIC,
        *,
        imsi: str = "001010123456789",
        iccid: str = "8901260123456789012",
        pin: str | None = None,
        puk: str = "12345678",
        boot_delay_s: float = 0.3,
        register_delay_s: float = 0.05,
    ) -> None:
        self.name = name
        self.msisdn = msisdn
        self.profile: Profile = get_profile(profile) if isinstance(profile, str) else profile
        self.imsi = imsi
        self.iccid = iccid
        self.boot_delay_s = boot_delay_s
        self.register_delay_s = register_delay_s
        self.settings = ModemSettings.defaults(self.profile)
        self.sim = SimCard(pin=pin, puk=puk)
        self.storage = Storage(dict(self.profile.capacities), self.profile.first_index)
        self.faults = FaultState()
        self.network: SimNetwork | None = None
        self.device: str | None = None  # the stable path of its pty, when it has one
        self.smsc = "+15550000000"  # +CSCA, on the SIM; the network sets its own on attach
        self.power: Power = "on"
        self.plugged = True
        self.cfun = 1
        self.reg_stat = 1  # +CREG <stat>: 1 registered (home)
        self.rssi = 21
        self.next_mr = 0
        self.pending_ack: receive.PendingAck | None = None
        self.ussd_session = False
        self._output = Output(self.faults, lambda: self.plugged)
        self.plug_listeners: list[Callable[[], None]] = []  # ports reopening on replug
        self._line = bytearray()
        self._echo = bytearray()  # echo of one feed() call, sent as one write
        self._last_line = ""
        self._prompt: Prompt | None = None
        self._held_urcs: list[bytes] = []  # URCs waiting for a prompt to end
        self._cnmi_buffer: list[bytes] = []  # SMS URCs buffered in the TA (+CNMI mode 0)
        self._timers: set[asyncio.TimerHandle] = set()
        self._replies_with_text = 0
        self._busy_lines = 0
        self._created = time.monotonic()
        self.transcript: deque[TranscriptEntry] = deque(maxlen=TRANSCRIPT_SIZE)
        self.closed = False

    # ------------------------------------------------------------------ links and output

    def add_link(self, link: ModemLink) -> None:
        self._output.links.append(link)

    def remove_link(self, link: ModemLink) -> None:
        with contextlib.suppress(ValueError):
            self._output.links.remove(link)

    def answering(self) -> bool:
        return self.plugged and self.power == "on" and not self.faults.hung

    def _record(self, direction: Literal["in", "out"], data: bytes | str) -> None:
        text = data if isinstance(data, str) else data.decode("latin-1")
        self.transcript.append(TranscriptEntry(time.monotonic() - self._created, direction, text))

    def send_raw(self, data: bytes) -> None:
        """Bytes outside any framing (line noise)."""
        self._record("out", data)
        self._send(data)

    def _flush_echo(self) -> None:
        if self._echo:
            data = bytes(self._echo)
            self._echo.clear()
            self._send(data)

    def _send(self, data: bytes, *, response: bool = False) -> None:
        """Queue bytes for the client, paced when a slow-response fault is active."""
        if not data or not self.plugged or self.faults.hung:
            return
        if self._echo:
            self._flush_echo()
        if response:
            self._record("out", data)
        self._output.send(data, response=response)

    def frame_info(self, lines: tuple[str, ...] | list[str]) -> bytes:
        return frame_info(lines, verbose=self.settings.verbose)

    def frame_final(self, code: str) -> bytes:
        return frame_final(code, verbose=self.settings.verbose, quiet=self.settings.quiet)

    def error_code(self, error: AtError) -> str:
        return error_text(
            error, cmee=self.settings.cmee, unknown_command=self.profile.unknown_command
        )

    # ------------------------------------------------------------------ URCs

    def emit_urc(self, *lines: str, sms: bool = False) -> None:
        """Send an unsolicited result code; SMS indications obey +CNMI <mode>."""
        if not self.answering():
            return
        data = self.frame_info(list(lines))
        if sms:
            mode = self.settings.cnmi[0]
            if mode == 0:
                self._cnmi_buffer.append(data)
                return
            if mode == 1 and self._prompt is not None:
                return  # link reserved: discarded, as TS 27.005 says for mode 1
        if self._prompt is not None:
            self._held_urcs.append(data)
            return
        self._record("out", data)
        self._send(data)

    def flush_cnmi_buffer(self, discard: bool) -> None:
        buffered, self._cnmi_buffer = self._cnmi_buffer, []
        if discard:
            return
        for data in buffered:
            self._record("out", data)
            self._send(data)

    # ------------------------------------------------------------------ input

    def feed(self, data: bytes) -> None:
        """Bytes from the client (DTE), in any chunking."""
        if not self.answering():
            return
        for byte in data:
            if not self.answering():
                return
            if self._prompt is not None:
                self._prompt_byte(byte)
            else:
                self._command_byte(byte)
        self._flush_echo()

    def _command_byte(self, byte: int) -> None:
        if self.settings.echo:
            self._echo.append(byte)
        if byte == CR:
            line = self._line.decode("latin-1")
            self._line.clear()
            self._command_line(line)
        elif byte == LF:
            return  # S4 after S3: ignored
        elif byte == BACKSPACE:
            if self._line:
                del self._line[-1]
        else:
            self._line.append(byte)
            if self._line[-2:].upper() == b"A/":
                self._line.clear()
                if self._last_line:
                    self._command_line(self._last_line)
            elif len(self._line) > MAX_COMMAND_LINE:
                del self._line[: -MAX_COMMAND_LINE // 2]

    def _prompt_byte(self, byte: int) -> None:
        prompt = self._prompt
        assert prompt is not None
        if byte == CTRL_Z:
            self._prompt = None
            body = prompt.data.decode("latin-1")
            self._record("in", body + "<Ctrl-Z>")
            try:
                reply = prompt.complete(body)
            except AtError as error:
                self._respond([self.frame_final(self.error_code(error))])
            else:
                self._respond([self.frame_info(reply.lines), self.frame_final("OK")])
            self._release_held_urcs()
            return
        if byte == ESC:
            self._prompt = None
            self._record("in", prompt.data.decode("latin-1") + "<ESC>")
            self._respond([self.frame_final("OK")])
            self._release_held_urcs()
            return
        if self.settings.echo:
            self._echo.append(byte)
        if byte in (CR, LF):
            if prompt.text_mode and byte == CR:
                prompt.data.append(LF)
                self._send(b"\r\n> ")
            return
        if byte == BACKSPACE:
            if prompt.data:
                del prompt.data[-1]
            return
        prompt.data.append(byte)
        if len(prompt.data) > MAX_PROMPT_DATA:
            self._prompt = None
            self._respond([self.frame_final(self.error_code(CmsError(304)))])
            self._release_held_urcs()

    def _release_held_urcs(self) -> None:
        held, self._held_urcs = self._held_urcs, []
        for data in held:
            self._record("out", data)
            self._send(data)

    def start_prompt(self, complete: Callable[[str], Reply], *, text_mode: bool) -> None:
        self._prompt = Prompt(complete, text_mode, bytearray())

    # ------------------------------------------------------------------ execution

    def _command_line(self, line: str) -> None:
        start = find_prefix(line)
        if start is None:
            return  # no "AT": line noise, which a DCE ignores
        body = line[start:]
        self._last_line = line[start - 2 :]
        self._record("in", line[start - 2 :])
        parsed = parse_line(body)
        chunks: list[bytes] = []
        final: str | None = "OK"
        if self._busy_lines > 0:
            self._busy_lines -= 1
            self._respond([self.frame_final(self.error_code(CmeError(515)))])
            return
        for command in parsed.commands:
            try:
                reply = self._dispatch(command)
            except AtError as error:
                chunks.append(self.frame_final(self.error_code(error)))
                self._respond(chunks)
                return
            chunks.append(self.frame_info(reply.lines))
            if self._prompt is not None:
                chunks.append(b"\r\n> ")
                self._respond(chunks, prompt=True)
                return
            final = "OK" if reply.final else None
        if parsed.error is not None:
            final = "ERROR"
        if final is not None:
            chunks.append(self.frame_final(final))
        self._respond(chunks)

    def _dispatch(self, command: AtCommand) -> Reply:
        fault_error = self.faults.command_error(command.name)
        if fault_error is not None:
            raise fault_error
        handler = HANDLERS.get(command.name)
        if handler is None:
            if command.name in self.profile.extra_commands:
                return at_general.vendor_command(self, command)
            raise PlainError(unknown=True)
        return handler(self, command)

    def _respond(self, chunks: list[bytes], *, prompt: bool = False) -> None:
        """Send one response, letting a fault or a profile quirk put a URC inside it."""
        chunks = [c for c in chunks if c]
        if not chunks:
            return
        has_text = len(chunks) > 1
        inside = self.faults.take_urc_inside_reply()
        if inside is None and has_text and self.profile.urc_inside_reply_every > 0:
            self._replies_with_text += 1
            if self._replies_with_text % self.profile.urc_inside_reply_every == 0:
                inside = self.profile.urc_inside_reply
        if inside is not None and not prompt:
            chunks.insert(len(chunks) - 1, self.frame_info([inside]))
        self._send(b"".join(chunks), response=True)

    # ------------------------------------------------------------------ timers and lifecycle

    def call_later(self, delay_s: float, callback: Callable[[], None]) -> asyncio.TimerHandle:
        loop = asyncio.get_running_loop()
        if self.closed:
            # A command or a network delivery racing the close: nothing more may happen.
            cancelled = loop.call_later(delay_s, lambda: None)
            cancelled.cancel()
            return cancelled

        def fire() -> None:
            self._timers.discard(handle)
            if not self.closed:
                callback()

        handle = loop.call_later(delay_s, fire)
        self._timers.add(handle)
        return handle

    def cancel_timer(self, handle: asyncio.TimerHandle | None) -> None:
        if handle is not None:
            handle.cancel()
            self._timers.discard(handle)

    def set_busy_lines(self, count: int) -> None:
        self._busy_lines = count

    def reset_settings(self) -> None:
        """ATZ / AT&F: the volatile settings go back to the profile's defaults."""
        self.settings = ModemSettings.defaults(self.profile)
        self._cnmi_buffer.clear()

    @property
    def registered(self) -> bool:
        return self.reg_stat in (1, 5) and self.cfun == 1 and self.power == "on"

    def set_registration(self, stat: int) -> None:
        if stat == self.reg_stat:
            return
        self.reg_stat = stat
        at_general.registration_urcs(self)
        if self.registered and self.network is not None:
            self.network.modem_ready(self)

    def reboot(self, boot_delay_s: float | None = None) -> None:
        """Power-cycle: silence, then the profile's boot URCs, with every volatile state reset."""
        delay = self.boot_delay_s if boot_delay_s is None else boot_delay_s
        self.power = "booting"
        self.reset_settings()
        self.faults.clear_volatile()
        self._line.clear()
        self._prompt = None
        self._held_urcs.clear()
        self._output.clear()
        self.cfun = 1
        self.reg_stat = 0
        self.sim.reset()
        receive.drop_pending_ack(self, requeue=True)
        self.ussd_session = False
        self.call_later(delay, self._booted)

    def _booted(self) -> None:
        if not self.plugged:
            return
        self.power = "on"
        for urc in self.profile.boot_urcs:
            if urc == "+CPIN: READY" and self.sim.state != "READY":
                urc = f"+CPIN: {self.sim.state}"
            self.emit_urc(urc)
        self.call_later(self.register_delay_s, lambda: self.set_registration(1))

    def unplug(self) -> None:
        """The USB device goes away: the links close and the modem loses power."""
        if not self.plugged:
            return
        self.plugged = False
        self.power = "off"
        self._output.clear()
        receive.drop_pending_ack(self, requeue=True)
        for link in list(self._output.links):
            link.modem_unplugged()
        self._output.links.clear()

    def replug(self, boot_delay_s: float | None = None) -> None:
        if self.plugged:
            return
        self.plugged = True
        for listener in list(self.plug_listeners):
            listener()
        self.reboot(boot_delay_s)

    def deliver_sms(self, pdu_hex: str, message_class: int | None = None) -> bool:
        """From the network: False when the modem cannot take it now (the network retries)."""
        return receive.deliver_sms(self, pdu_hex, message_class)

    def deliver_status_report(self, pdu_hex: str) -> bool:
        return receive.deliver_status_report(self, pdu_hex)

    def storage_freed(self) -> None:
        if self.network is not None:
            self.network.modem_ready(self)

    def close(self) -> None:
        self.closed = True
        for handle in list(self._timers):
            handle.cancel()
        self._timers.clear()
        self._output.cancel()
        self.faults.close()
        receive.drop_pending_ack(self, requeue=False)

    async def aclose(self) -> None:
        self.close()
        await self._output.aclose()
