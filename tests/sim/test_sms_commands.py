"""TS 27.005 behaviour: storage and index spaces, +CNMI routing, reading, deleting, text mode."""

from __future__ import annotations

import asyncio
import re

from gateway.sim.modem import SimModem
from gateway.sim.network import SimNetwork
from gateway.sms import Deliver, StatusReport, decode_pdu, encode_submit
from tests.sim.conftest import PHONE
from tests.sim.helpers import AtClient

CMTI = re.compile(rb'\+CMTI: "(\w+)",(\d+)\r\n')


async def test_received_message_is_stored_and_indicated(
    client: AtClient, network: SimNetwork
) -> None:
    await client.command("AT+CNMI=2,1,0,0,0")
    network.handset(PHONE).send("+15551230001", "hello modem")
    assert await client.wait_for(CMTI) == b'\r\n+CMTI: "SM",1\r\n'
    reply = await client.command("AT+CMGR=1")
    header, pdu, rest = reply.split(b"\r\n")[1:4]
    assert header.startswith(b"+CMGR: 0,,")
    assert int(header.rsplit(b",", 1)[1]) == len(pdu) // 2 - 8  # <length> excludes the SMSC field
    assert rest == b""
    deliver = decode_pdu(pdu.decode())
    assert isinstance(deliver, Deliver)
    assert (deliver.originator.number, deliver.text) == (PHONE, "hello modem")
    # Read once: REC READ from now on.
    assert (await client.command("AT+CMGR=1")).startswith(b"\r\n+CMGR: 1,,")


async def test_memories_have_separate_index_spaces(client: AtClient, network: SimNetwork) -> None:
    await client.command('AT+CPMS="ME","ME","ME"')
    network.handset(PHONE).send("+15551230001", "into ME")
    await asyncio.sleep(0.02)
    await client.command('AT+CPMS="SM","SM","SM"')
    network.handset(PHONE).send("+15551230001", "into SM")
    await asyncio.sleep(0.02)
    assert await client.command("AT+CPMS?") == (
        b'\r\n+CPMS: "SM",1,30,"SM",1,30,"SM",1,30\r\n\r\nOK\r\n'
    )
    sm = await client.command("AT+CMGL=4")
    await client.command('AT+CPMS="ME"')
    me = await client.command("AT+CMGL=4")
    assert sm.startswith(b"\r\n+CMGL: 1,0,,")
    assert me.startswith(b"\r\n+CMGL: 1,0,,")
    assert sm != me
    assert await client.command('AT+CPMS="SR","ME"') == (
        b"\r\n+CPMS: 0,20,1,100,1,30\r\n\r\nOK\r\n"
    )


async def test_cmgr_of_an_empty_or_invalid_slot_is_cms_321(client: AtClient) -> None:
    assert await client.command("AT+CMGR=1") == b"\r\n+CMS ERROR: 321\r\n"
    assert await client.command("AT+CMGR=31") == b"\r\n+CMS ERROR: 321\r\n"
    assert await client.command("AT+CMGD=99") == b"\r\n+CMS ERROR: 321\r\n"


async def test_cmgl_filters_by_stat_and_marks_read(client: AtClient, network: SimNetwork) -> None:
    for text in ("one", "two"):
        network.handset(PHONE).send("+15551230001", text)
    await asyncio.sleep(0.02)
    await client.command("AT+CMGR=1")
    unread = await client.command("AT+CMGL")  # default stat: REC UNREAD
    assert unread.count(b"+CMGL:") == 1
    assert b"+CMGL: 2,0,," in unread
    assert (await client.command("AT+CMGL=0")) == b"\r\nOK\r\n"
    everything = await client.command("AT+CMGL=4")
    assert b"+CMGL: 1,1,," in everything
    assert b"+CMGL: 2,1,," in everything
    assert await client.command('AT+CMGL="ALL"') == b"\r\n+CMS ERROR: 304\r\n"


async def test_cmgd_with_delflags(client: AtClient, network: SimNetwork) -> None:
    for text in ("a", "b", "c"):
        network.handset(PHONE).send("+15551230001", text)
    await asyncio.sleep(0.02)
    await client.command("AT+CMGR=2")
    await client.command("AT+CMGD=0,1")  # every read message
    listing = await client.command("AT+CMGL=4")
    assert b"+CMGL: 2," not in listing
    assert listing.count(b"+CMGL:") == 2
    await client.command("AT+CMGD=1")
    assert (await client.command("AT+CMGL=4")).count(b"+CMGL:") == 1
    await client.command("AT+CMGD=1,4")
    assert await client.command("AT+CMGL=4") == b"\r\nOK\r\n"
    assert await client.command("AT+CMGD=5") == b"\r\nOK\r\n"  # an empty slot: nothing to do


async def test_text_mode_read_list_and_send(client: AtClient, network: SimNetwork) -> None:
    network.handset(PHONE).send("+15551230001", "plain text")
    await asyncio.sleep(0.02)
    await client.command("AT+CMGF=1")
    reply = await client.command('AT+CMGL="ALL"')
    assert re.fullmatch(
        rb'\r\n\+CMGL: 1,"REC UNREAD","\+15559990000",,"\d\d/\d\d/\d\d,\d\d:\d\d:\d\d\+00"'
        rb"\r\nplain text\r\n\r\nOK\r\n",
        reply,
    )
    assert await client.command(f'AT+CMGS="{PHONE}"') == b"\r\n> "
    client.write(b"line one\rline two\x1a")
    assert await client.wait_for(b"OK\r\n") == b"\r\n> \r\n+CMGS: 0\r\n\r\nOK\r\n"
    inbox = await network.handset(PHONE).wait_for_inbox(1)
    assert inbox[0].text == "line one\nline two"


async def test_ucs2_charset_in_text_mode(client: AtClient, network: SimNetwork) -> None:
    await client.command('AT+CMGF=1;+CSCS="UCS2"')
    number = PHONE.encode("utf-16-be").hex().upper()
    await client.command(f'AT+CMGS="{number}"')
    client.write("Привет".encode("utf-16-be").hex().encode() + b"\x1a")
    await client.wait_for(b"OK\r\n")
    inbox = await network.handset(PHONE).wait_for_inbox(1)
    assert inbox[0].text == "Привет"


async def test_cmt_direct_delivery_needs_cnma_when_csms_is_1(
    client: AtClient, network: SimNetwork, modem: SimModem
) -> None:
    assert await client.command("AT+CSMS=1") == b"\r\n+CSMS: 1,1,1\r\n\r\nOK\r\n"
    await client.command("AT+CNMI=2,2,0,1,0")
    phone = network.handset(PHONE)
    phone.send("+15551230001", "first")
    phone.send("+15551230001", "second")
    first = await client.wait_for(re.compile(rb"\+CMT: ,\d+\r\n[0-9A-F]+\r\n"))
    assert first.startswith(b"\r\n+CMT: ,")
    assert await client.quiet() == b""  # the second waits for the acknowledgement
    assert await client.command("AT+CNMA") == b"\r\nOK\r\n"
    second = await client.wait_for(re.compile(rb"\+CMT: ,\d+\r\n[0-9A-F]+\r\n"))
    deliver = decode_pdu(second.split(b"\r\n")[2].decode())
    assert isinstance(deliver, Deliver)
    assert deliver.text == "second"
    await client.command("AT+CNMA")
    assert await client.command("AT+CNMA") == b"\r\n+CMS ERROR: 340\r\n"
    assert modem.storage["SM"].used == 0


async def test_status_reports_routed_as_cds_and_cdsi(client: AtClient, network: SimNetwork) -> None:
    part = encode_submit("report me", PHONE, status_report=True).parts[0]
    await client.command("AT+CNMI=2,1,0,1,0")
    await client.command(f"AT+CMGS={part.tpdu_length}")
    client.write(part.pdu.encode() + b"\x1a")
    sent = await client.wait_for(re.compile(rb"\+CDS: \d+\r\n[0-9A-F]+\r\n"))
    mr = int(re.search(rb"\+CMGS: (\d+)", sent).group(1))  # type: ignore[union-attr]
    report = decode_pdu(sent.split(b"+CDS: ")[1].split(b"\r\n")[1].decode())
    assert isinstance(report, StatusReport)
    assert (report.mr, report.recipient.number, report.outcome) == (mr, PHONE, "delivered")

    await client.command("AT+CNMI=2,1,0,2,0")
    await client.command(f"AT+CMGS={part.tpdu_length}")
    client.write(part.pdu.encode() + b"\x1a")
    assert (await client.wait_for(b"+CDSI")).endswith(b'\r\n+CDSI: "SR",1\r\n')
    await client.command('AT+CPMS="SR"')
    stored = await client.command("AT+CMGR=1")
    assert isinstance(decode_pdu(stored.split(b"\r\n")[2].decode()), StatusReport)


async def test_no_report_unless_requested(client: AtClient, network: SimNetwork) -> None:
    part = encode_submit("no report", PHONE).parts[0]
    await client.command("AT+CNMI=2,1,0,1,0")
    await client.command(f"AT+CMGS={part.tpdu_length}")
    client.write(part.pdu.encode() + b"\x1a")
    await client.wait_for(b"OK\r\n")
    await network.handset(PHONE).wait_for_inbox(1)
    assert await client.quiet(0.1) == b""


async def test_cnmi_mode_0_buffers_indications_until_flushed(
    client: AtClient, network: SimNetwork
) -> None:
    await client.command("AT+CNMI=0,1,0,0,0")
    network.handset(PHONE).send("+15551230001", "buffered")
    assert await client.quiet() == b""
    reply = await client.command("AT+CNMI=2,1,0,0,0")
    assert b'+CMTI: "SM",1' in reply


async def test_ussd_answer_arrives_as_urc(client: AtClient) -> None:
    await client.command('AT+CSCS="UCS2"')
    code = "*100#".encode("utf-16-be").hex().upper()
    assert await client.command(f'AT+CUSD=1,"{code}",15') == b"\r\nOK\r\n"
    urc = await client.wait_for(b",15\r\n")
    text = bytes.fromhex(urc.split(b'"')[1].decode()).decode("utf-16-be")
    assert text == "Your balance is 10.00 SIM-units"


async def test_pin_and_puk(network: SimNetwork) -> None:
    from tests.sim.helpers import connect

    modem = SimModem("locked", "+15551230009", pin="1234")
    network.attach(modem)
    client = await connect(modem)
    await client.command("AT+CMEE=1")
    assert await client.command("AT+CPIN?") == b"\r\n+CPIN: SIM PIN\r\n\r\nOK\r\n"
    assert await client.command("AT+CPMS?") == b"\r\n+CMS ERROR: 311\r\n"
    assert await client.command("AT+CIMI") == b"\r\n+CME ERROR: 11\r\n"
    for _ in range(3):
        assert await client.command('AT+CPIN="0000"') == b"\r\n+CME ERROR: 16\r\n"
    assert await client.command("AT+CPIN?") == b"\r\n+CPIN: SIM PUK\r\n\r\nOK\r\n"
    assert await client.command('AT+CPIN="12345678","4321"') == b"\r\nOK\r\n"
    assert (await client.wait_for(b"READY\r\n")) == b"\r\n+CPIN: READY\r\n"
    assert await client.command("AT+CIMI") == b"\r\n001010123456789\r\n\r\nOK\r\n"
    assert client.transport is not None
    client.transport.close()
