"""V.25ter framing to the byte: echo, result codes, chains, the `> ` prompt, Ctrl-Z and ESC."""

from __future__ import annotations

import pytest

from gateway.sim.modem import SimModem
from gateway.sim.network import SimNetwork
from tests.sim.conftest import PHONE
from tests.sim.helpers import AtClient, connect

# gammu's first single-part SUBMIT from the reference transcript ("hello" to +15551234567).
HELLO_SUBMIT = "07915155000000F011000B915155214365F70000FF05E8329BFD06"


async def test_echo_repeats_the_line_before_the_result(modem: SimModem) -> None:
    client = await connect(modem, echo=True)
    assert await client.command("AT") == b"AT\r\r\nOK\r\n"
    assert await client.command("ATE0") == b"ATE0\r\r\nOK\r\n"
    assert await client.command("AT") == b"\r\nOK\r\n"


async def test_information_text_and_final_result_are_framed(client: AtClient) -> None:
    assert await client.command("AT+CGMI") == b"\r\nSimModem\r\n\r\nOK\r\n"
    assert await client.command("AT+CSQ") == b"\r\n+CSQ: 21,99\r\n\r\nOK\r\n"


async def test_chained_commands_answer_in_order_with_one_final_result(client: AtClient) -> None:
    reply = await client.command("AT+CMEE=1;+CREG=2;+CREG?;+CSQ")
    assert reply == b'\r\n+CREG: 2,1,"00C3","0000A13F"\r\n\r\n+CSQ: 21,99\r\n\r\nOK\r\n'


async def test_an_error_stops_the_chain(client: AtClient) -> None:
    assert await client.command("AT+CMGF=1;+MODE=2;+CMGF=0") == b"\r\nERROR\r\n"
    assert await client.command("AT+CMGF?") == b"\r\n+CMGF: 1\r\n\r\nOK\r\n"


async def test_unknown_commands_answer_error(client: AtClient) -> None:
    for line in ("AT+MODE=2", "AT+CPROT=?", "AT+SYNCML=?", "AT$TSSPCSW=?", "AT^FOO", "AT+CMGF"):
        assert await client.command(line) == b"\r\nERROR\r\n", line


async def test_cmee_levels_change_error_reports(client: AtClient) -> None:
    assert await client.command('AT+CPIN="1234"') == b"\r\nERROR\r\n"
    await client.command("AT+CMEE=1")
    assert await client.command('AT+CPIN="1234"') == b"\r\n+CME ERROR: 3\r\n"
    await client.command("AT+CMEE=2")
    assert await client.command('AT+CPIN="1234"') == b"\r\n+CME ERROR: operation not allowed\r\n"
    assert await client.command("AT+CMGR=9") == b"\r\n+CMS ERROR: invalid memory index\r\n"


async def test_line_noise_without_at_is_ignored(client: AtClient) -> None:
    client.write(b"\x1b\r")
    assert await client.quiet() == b""
    assert await client.command(b"\x1b\x00garbageAT") == b"\r\nOK\r\n"


async def test_lf_is_ignored_and_backspace_edits(client: AtClient) -> None:
    assert await client.command(b"AT+CGMX\x08I") == b"\r\nSimModem\r\n\r\nOK\r\n"
    client.write(b"AT\r\n")
    assert await client.wait_for(b"OK\r\n") == b"\r\nOK\r\n"
    assert await client.quiet() == b""


async def test_a_slash_repeats_the_last_line(client: AtClient) -> None:
    await client.command("AT+CGMI")
    client.write(b"A/")
    assert await client.wait_for(b"OK\r\n") == b"\r\nSimModem\r\n\r\nOK\r\n"


async def test_numeric_and_quiet_result_codes(client: AtClient) -> None:
    client.write(b"ATV0\r")
    assert await client.wait_for(b"0\r") == b"0\r"
    client.write(b"AT+CGMI\r")
    assert await client.wait_for(b"0\r") == b"SimModem\r\n0\r"
    client.write(b"AT+FOO\r")
    assert await client.wait_for(b"4\r") == b"4\r"
    client.write(b"ATV1Q1\r")
    assert await client.quiet() == b""
    client.write(b"AT+CGMI\r")
    assert await client.wait_for(b"SimModem\r\n") == b"\r\nSimModem\r\n"


async def test_cmgs_prompt_has_no_line_end_and_ctrl_z_sends(
    client: AtClient, network: SimNetwork
) -> None:
    assert await client.command("AT+CMGS=19") == b"\r\n> "
    client.write(HELLO_SUBMIT.encode() + b"\x1a")
    assert await client.wait_for(b"OK\r\n") == b"\r\n+CMGS: 0\r\n\r\nOK\r\n"
    inbox = await network.handset("+15551234567").wait_for_inbox(1)
    assert [(m.from_, m.text) for m in inbox] == [("+15551230001", "hello")]


async def test_prompt_data_is_echoed_when_echo_is_on(modem: SimModem) -> None:
    client = await connect(modem, echo=True)
    assert await client.command("AT+CMGS=19") == b"AT+CMGS=19\r\r\n> "
    client.write(HELLO_SUBMIT.encode() + b"\x1a")
    assert await client.wait_for(b"OK\r\n") == HELLO_SUBMIT.encode() + b"\r\n+CMGS: 0\r\n\r\nOK\r\n"


async def test_esc_cancels_the_prompt_without_sending(
    client: AtClient, network: SimNetwork
) -> None:
    await client.command("AT+CMGS=19")
    client.write(HELLO_SUBMIT[:20].encode() + b"\x1b")
    assert await client.wait_for(b"OK\r\n") == b"\r\nOK\r\n"
    assert await client.command("AT") == b"\r\nOK\r\n"
    assert network.handset("+15551234567").inbox == []


@pytest.mark.parametrize(
    ("length", "pdu"),
    [(18, HELLO_SUBMIT), (19, "07915155000000F011000B91"), (19, "ZZ" + HELLO_SUBMIT[2:])],
)
async def test_wrong_pdu_or_length_is_refused(client: AtClient, length: int, pdu: str) -> None:
    await client.command("AT+CMEE=1")
    await client.command(f"AT+CMGS={length}")
    client.write(pdu.encode() + b"\x1a")
    assert await client.wait_for(b"\r\n") == b"\r\n+CMS ERROR: 304\r\n"


async def test_one_byte_at_a_time_gives_the_same_bytes(
    modem: SimModem, network: SimNetwork
) -> None:
    client = await connect(modem, echo=True, chunk_size=1)
    assert await client.command("AT+CPMS?") == (
        b'AT+CPMS?\r\r\n+CPMS: "SM",0,30,"SM",0,30,"SM",0,30\r\n\r\nOK\r\n'
    )
    network.handset(PHONE).send(modem.msisdn, "x")
    await client.command("AT+CMGF=0")
    reply = await client.command("AT+CMGL=4")
    assert reply.startswith(b"AT+CMGL=4\r\r\n+CMGL: 1,0,,")
