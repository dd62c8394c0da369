"""The SMPP session over real TCP, both sides being production code: a transmitter and receiver
pair, hostile frames answered without dropping the connection, enquire_link both ways, and an
unbind from the SMSC answered and followed by a rebind."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import struct
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import TypeVar

import pytest

from gateway.modem.model import LineState
from gateway.sim.network import SimNetwork
from gateway.sim.smsc import SimSmsc
from gateway.smpp import SmppInbound, SmppLine, SmppReceipt, SmppSettings, codec
from gateway.smpp.codec import Pdu
from gateway.smpp.line import ReceiptSink
from gateway.sms import encode_submit
from tests.conftest import require_tool
from tests.pipeline.conftest import eventually

CUSTOMER = "+15557770003"

T = TypeVar("T")


@pytest.fixture
async def smsc() -> AsyncIterator[SimSmsc]:
    network = SimNetwork()
    server = SimSmsc(network, redeliver_after_s=0.2)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
        await network.aclose()


class Sinks:
    def __init__(self) -> None:
        self.inbound: list[SmppInbound] = []
        self.receipts: list[SmppReceipt] = []
        self.states: list[LineState] = []

    async def on_inbound(self, _line: str, items: Sequence[SmppInbound]) -> None:
        self.inbound.extend(items)

    async def on_receipt(self, _line: str, receipt: SmppReceipt) -> bool:
        self.receipts.append(receipt)
        return True


def _line(smsc: SimSmsc, sinks: Sinks, receipt_sink: ReceiptSink | None = None,
          **settings: object) -> SmppLine:
    return SmppLine(
        SmppSettings("sc", "127.0.0.1", smsc.port, smsc.system_id, smsc.password, smsc.number,
                     reconnect_initial_s=0.1, reconnect_max_s=0.2, **settings),  # type: ignore[arg-type]
        on_state=sinks.states.append, inbound_sink=sinks.on_inbound,
        receipt_sink=receipt_sink or sinks.on_receipt,
    )


async def _value(value: T) -> T:
    return value


async def test_transmitter_and_receiver_pair_sends_and_receives(smsc: SimSmsc) -> None:
    sinks = Sinks()
    line = _line(smsc, sinks, bind="transmitter_receiver")
    await line.start()
    try:
        await eventually(lambda: _value(line.can_send()), bool)
        bound = smsc.status()["bound"]
        assert isinstance(bound, list)
        assert sorted((e["transmit"], e["receive"]) for e in bound) == [
            (False, True), (True, False)]
        smsc.network.handset(CUSTOMER).send(smsc.number, "over the receiver")
        await eventually(lambda: _value(len(sinks.inbound)), lambda n: n == 1)
        assert sinks.inbound[0].text == "over the receiver"
        part = encode_submit("over the transmitter", CUSTOMER, status_report=True).parts[0]
        message_id = await line.send_part(part.pdu, part.tpdu_length)
        await eventually(lambda: _value(len(sinks.receipts)), lambda n: n == 1)
        assert sinks.receipts[0].message_id == message_id
        assert sinks.receipts[0].outcome == "delivered"
        assert smsc.network.handset(CUSTOMER).inbox[0].text == "over the transmitter"
    finally:
        await line.stop()


async def test_wrong_password_is_reported_and_retried_until_it_binds(smsc: SimSmsc) -> None:
    sinks = Sinks()
    line = _line(smsc, sinks)
    smsc.password = "other"
    await line.start()
    try:
        await eventually(lambda: _value(sinks.states[-1]),
                         lambda s: s.status == "down" and "ESME_RINVPASWD" in (s.last_error or ""))
        smsc.password = "secret"
        await eventually(lambda: _value(line.state.status), lambda s: s == "ready")
    finally:
        await line.stop()


async def test_unbind_from_the_smsc_is_answered_and_the_line_binds_again(smsc: SimSmsc) -> None:
    sinks = Sinks()
    line = _line(smsc, sinks)
    await line.start()
    try:
        await eventually(lambda: _value(line.can_send()), bool)
        [esme] = [e for e in smsc.esmes if e.receive]
        response = await esme.connection.request("unbind")
        assert (response.command, response.status) == ("unbind_resp", codec.ESME_ROK)
        await eventually(lambda: _value(line.state.status), lambda s: s != "ready")
        await eventually(lambda: _value(line.can_send()), bool)
    finally:
        await line.stop()


async def test_hostile_frames_are_answered_and_the_connection_goes_on(smsc: SimSmsc) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", smsc.port)
    try:
        async def ask(frame: bytes) -> Pdu:
            writer.write(frame)
            header = await asyncio.wait_for(reader.readexactly(16), 5)
            length = struct.unpack(">I", header[:4])[0]
            return codec.decode(header + await reader.readexactly(length - 16))

        unknown = await ask(struct.pack(">IIII", 16, 0x00000999, 0, 7))
        assert (unknown.command, unknown.status, unknown.sequence) == (
            "generic_nack", codec.ESME_RINVCMDID, 7)
        alive = await ask(codec.encode(Pdu("enquire_link", 8)))
        assert (alive.command, alive.sequence) == ("enquire_link_resp", 8)
        frame = codec.encode(Pdu("submit_sm", 9, params={"short_message": b"x"}))
        broken = await ask(struct.pack(">I", len(frame) - 2) + frame[4:-2])
        assert broken.sequence == 9
        assert broken.status != codec.ESME_ROK
        unbound = await ask(codec.encode(Pdu("submit_sm", 10, params={
            "destination_addr": b"15557770003", "short_message": b"hi"})))
        assert (unbound.command, unbound.status) == ("submit_sm_resp", codec.ESME_RINVBNDSTS)
    finally:
        writer.close()


async def test_a_receipt_that_overtakes_the_sent_commit_is_delivered_again(
    smsc: SimSmsc,
) -> None:
    sinks = Sinks()
    answers = [False, True]  # the part's `sent` is not committed yet, then it is

    async def on_receipt(_line: str, receipt: SmppReceipt) -> bool:
        sinks.receipts.append(receipt)
        return answers.pop(0)

    line = _line(smsc, sinks, on_receipt)
    await line.start()
    try:
        await eventually(lambda: _value(line.can_send()), bool)
        part = encode_submit("receipt race", CUSTOMER, status_report=True).parts[0]
        message_id = await line.send_part(part.pdu, part.tpdu_length)
        await eventually(lambda: _value(len(sinks.receipts)), lambda n: n == 2)
        assert [r.message_id for r in sinks.receipts] == [message_id, message_id]
        await eventually(lambda: _value(smsc.status()["waiting_for_ack"]), lambda n: n == 0)
    finally:
        await line.stop()


async def test_a_tls_account_binds_and_exchanges_over_tls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_tool(shutil.which("openssl") is not None, "openssl is not installed")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    openssl = await asyncio.create_subprocess_exec(
        "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
        "-addext", "subjectAltName=IP:127.0.0.1",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )
    assert await openssl.wait() == 0
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the ESME trusts this SMSC's certificate
    network = SimNetwork()
    smsc = SimSmsc(network, tls=server_context)
    await smsc.start()
    sinks = Sinks()
    line = _line(smsc, sinks, tls=True)
    await line.start()
    try:
        await eventually(lambda: _value(line.can_send()), bool)
        assert line.state.device is not None
        assert line.state.device.startswith("smpps://")
        network.handset(CUSTOMER).send(smsc.number, "over TLS")
        await eventually(lambda: _value(len(sinks.inbound)), lambda n: n == 1)
        assert sinks.inbound[0].text == "over TLS"
    finally:
        await line.stop()
        await smsc.stop()
        await network.aclose()


async def test_long_replies_tied_by_sar_tlvs_reach_the_handset_whole(smsc: SimSmsc) -> None:
    sinks = Sinks()
    line = _line(smsc, sinks, long_messages="sar")
    await line.start()
    try:
        await eventually(lambda: _value(line.can_send()), bool)
        text = ("Tied together by sar_* TLVs instead of a user data header. " * 5)[:280]
        for part in encode_submit(text, CUSTOMER, ref=77).parts:
            await line.send_part(part.pdu, part.tpdu_length)
        inbox = smsc.network.handset(CUSTOMER).inbox
        await eventually(lambda: _value(len(inbox)), lambda n: n == 1)
        assert (inbox[0].text, inbox[0].parts) == (text, 2)
    finally:
        await line.stop()
