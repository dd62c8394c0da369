"""ModemDriver against the simulated modem, over a real pty and over the in-memory transport."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from gateway.modem import (
    CmeError,
    CmsError,
    CommandError,
    CommandTimeoutError,
    ConnectionLostError,
    ModemDriver,
    SubmitConnectionLostError,
    SubmitUnconfirmedError,
    Urc,
)
from gateway.sim.faults import apply_fault
from gateway.sim.modem import SimModem
from gateway.sms import Submit, decode_pdu, encode_submit
from tests.modem.conftest import CUSTOMER, SimLines, until


def submit_part(text: str, to: str = CUSTOMER) -> tuple[str, int]:
    part = encode_submit(text, to).parts[0]
    return part.pdu, part.tpdu_length


async def prepared(sim: SimLines, modem: SimModem, **kwargs: float) -> ModemDriver:
    driver = await sim.driver(modem, **kwargs)
    await driver.command("ATE0")
    await driver.command("AT+CMEE=1")
    await driver.command("AT+CMGF=0")
    return driver


async def wait_until_written(driver: ModemDriver, marker: str) -> None:
    driver.protocol.redact_pdus = False  # the marker may be a PDU, redacted by default
    await until(lambda: any(marker in line for line in driver.recent_traffic()), 2.0)


async def test_command_returns_its_lines_and_drops_the_echo(sim: SimLines) -> None:
    modem = sim.modem("huawei")
    driver = await sim.driver(modem)
    try:
        assert modem.settings.echo  # a fresh modem echoes what it is sent
        assert await driver.command("AT+CGMI") == ("huawei",)
        assert await driver.command("AT+CREG?") == ("+CREG: 0,1",)
    finally:
        await driver.close()


async def test_errors_carry_the_command_and_the_code(sim: SimLines) -> None:
    modem = sim.modem("huawei")
    driver = await prepared(sim, modem)
    try:
        with pytest.raises(CmeError) as cme:
            await driver.command('AT+CPIN="0000"')  # the SIM is already unlocked
        assert (cme.value.code, cme.value.command) == (3, 'AT+CPIN="0000"')
        with pytest.raises(CmsError) as cms:
            await driver.command("AT+CMGR=999")
        assert (cms.value.code, cms.value.retryable) == (321, False)
        with pytest.raises(CommandError) as plain:
            await driver.command("AT+NOSUCH")
        assert plain.value.result == "COMMAND NOT SUPPORT"
        assert any("AT+NOSUCH" in line for line in plain.value.recent_traffic)
    finally:
        await driver.close()


async def test_send_pdu_returns_the_message_reference(sim: SimLines) -> None:
    modem = sim.modem()
    driver = await prepared(sim, modem)
    handset = sim.network.handset(CUSTOMER)
    try:
        first = await driver.send_pdu(*submit_part("first"))
        second = await driver.send_pdu(*submit_part("second"))
        assert second == (first + 1) % 256
        inbox = await handset.wait_for_inbox(2)
        assert [m.text for m in inbox] == ["first", "second"]
    finally:
        await driver.close()


async def test_cms_failures_are_classified(sim: SimLines) -> None:
    modem = sim.modem()
    driver = await prepared(sim, modem)
    try:
        for cms, retryable in [(500, True), (42, True), (332, True), (304, False), (21, False)]:
            apply_fault(modem, "send_failure", {"cms": cms})
            with pytest.raises(CmsError) as failure:
                await driver.send_pdu(*submit_part("hello"))
            assert (failure.value.code, failure.value.retryable) == (cms, retryable)
            assert failure.value.command.startswith("AT+CMGS=")
        assert sim.network.handset(CUSTOMER).received_parts == []
        await driver.send_pdu(*submit_part("again"))  # the port is usable afterwards
        assert len(sim.network.handset(CUSTOMER).received_parts) == 1
    finally:
        await driver.close()


async def test_hung_modem_times_out_and_the_error_shows_recent_traffic(sim: SimLines) -> None:
    modem = sim.modem()
    driver = await prepared(sim, modem)
    try:
        apply_fault(modem, "hang", {})
        with pytest.raises(CommandTimeoutError) as timeout:
            await driver.command("AT+CSQ")
        assert isinstance(timeout.value, TimeoutError)
        assert timeout.value.recent_traffic[-1] == "-> AT+CSQ"
        apply_fault(modem, "unhang", {})
        assert await driver.command("AT+CSQ") == ("+CSQ: 21,99",)
    finally:
        await driver.close()


async def test_missing_prompt_is_escaped_and_nothing_is_sent(sim: SimLines) -> None:
    modem = sim.modem()
    driver = await prepared(sim, modem)
    try:
        apply_fault(modem, "hang", {})
        with pytest.raises(CommandTimeoutError) as timeout:
            await driver.send_pdu(*submit_part("never"))
        assert not isinstance(timeout.value, SubmitUnconfirmedError)
        assert "-> <ESC>" in driver.recent_traffic()
        apply_fault(modem, "unhang", {})
        assert await driver.command("AT") == ()
        assert sim.network.handset(CUSTOMER).received_parts == []
    finally:
        await driver.close()


async def test_urc_inside_a_response_reaches_subscribers_not_the_command(sim: SimLines) -> None:
    modem = sim.modem()
    driver = await prepared(sim, modem)
    urcs: list[Urc] = []
    unsubscribe = driver.subscribe(urcs.append)
    try:
        apply_fault(modem, "urc_in_reply", {"urc": '+CMTI: "SM",7'})
        assert await driver.command("AT+CSQ") == ("+CSQ: 21,99",)
        apply_fault(modem, "urc_in_reply", {"urc": "+CREG: 5"})
        assert await driver.command("AT+CREG?") == ("+CREG: 0,1", "+CREG: 5")  # expected prefix
        apply_fault(modem, "urc_in_reply", {"urc": "^RSSI: 9"})
        assert await driver.command("AT+CGMM") == ("GSM-27005",)
        assert [u.text for u in urcs] == ['+CMTI: "SM",7', "^RSSI: 9"]
        unsubscribe()
        apply_fault(modem, "urc_in_reply", {"urc": "RING"})
        await driver.command("AT+CGMM")
        assert len(urcs) == 2
    finally:
        await driver.close()


async def test_garbage_on_the_line_does_not_reach_the_next_answer(sim: SimLines) -> None:
    modem = sim.modem()
    driver = await prepared(sim, modem)
    try:
        for seed in range(5):
            apply_fault(modem, "garbage", {"length": 40, "seed": seed})
            assert await driver.command("AT+CGMI") == ("SimModem",)
        apply_fault(modem, "garbage", {"hex": "ff00fe0d0a"})
        assert await driver.command("AT+CGSN") == ("356938035643809",)
    finally:
        await driver.close()


async def test_unplug_fails_the_pending_command_at_once(sim: SimLines) -> None:
    modem = sim.modem()
    driver = await prepared(sim, modem, command_timeout_s=5.0)
    try:
        apply_fault(modem, "slow", {"per_response_ms": 2000})
        pending = asyncio.create_task(driver.command("AT+CSQ"))
        await wait_until_written(driver, "-> AT+CSQ")
        apply_fault(modem, "unplug", {})
        async with asyncio.timeout(1.0):
            with pytest.raises(ConnectionLostError):
                await pending
        await asyncio.wait_for(asyncio.shield(driver.closed), 1.0)
        with pytest.raises(ConnectionLostError):
            await driver.command("AT")
    finally:
        await driver.close()


async def test_unplug_after_the_pdu_was_written_is_reported_as_unconfirmed(
    sim: SimLines,
) -> None:
    modem = sim.modem()
    driver = await prepared(sim, modem)
    handset = sim.network.handset(CUSTOMER)
    parts = encode_submit("x" * 400, CUSTOMER).parts
    assert len(parts) == 3
    try:
        await driver.send_pdu(parts[0].pdu, parts[0].tpdu_length)
        apply_fault(modem, "slow", {"per_response_ms": 300})
        second = asyncio.create_task(driver.send_pdu(parts[1].pdu, parts[1].tpdu_length))
        await wait_until_written(driver, parts[1].pdu)
        apply_fault(modem, "unplug", {})
        with pytest.raises(SubmitConnectionLostError) as lost:
            await second
        assert isinstance(lost.value, SubmitUnconfirmedError)
        assert isinstance(lost.value, ConnectionLostError)
        with pytest.raises(ConnectionLostError):
            await driver.send_pdu(parts[2].pdu, parts[2].tpdu_length)
        # The network did take the second part: that is why it must not be resent silently.
        await asyncio.sleep(0.05)
        sent = [p for p in handset.received_parts if p.concat is not None]
        assert sorted(p.concat.seq for p in sent if p.concat) == [1, 2]
    finally:
        await driver.close()


async def test_a_cancelled_send_still_completes_and_keeps_the_port(sim: SimLines) -> None:
    modem = sim.modem()
    driver = await prepared(sim, modem)
    handset = sim.network.handset(CUSTOMER)
    try:
        apply_fault(modem, "slow", {"per_response_ms": 150})
        pdu, length = submit_part("shielded")
        sending = asyncio.create_task(driver.send_pdu(pdu, length))
        await wait_until_written(driver, pdu)
        sending.cancel()
        with pytest.raises(asyncio.CancelledError):
            await sending
        # The next command waits for the +CMGS the modem still owes, then gets its own answer
        # (two slow answers: more than the fixtures' short timeout on a loaded machine).
        assert await driver.command("AT+CGMI", timeout_s=10) == ("SimModem",)
        assert any(line.startswith("<- +CMGS:") for line in driver.recent_traffic())
        inbox = await handset.wait_for_inbox(1)
        assert [m.text for m in inbox] == ["shielded"]
    finally:
        await driver.close()


async def test_close_lets_an_in_flight_send_finish(sim: SimLines) -> None:
    modem = sim.modem()
    driver = await prepared(sim, modem)
    try:
        apply_fault(modem, "slow", {"per_response_ms": 150})
        pdu, length = submit_part("before close")
        sending = asyncio.create_task(driver.send_pdu(pdu, length))
        await wait_until_written(driver, pdu)
        await driver.close()
        assert isinstance(await sending, int)
    finally:
        with contextlib.suppress(Exception):
            await driver.close()


async def test_storage_listing_reading_and_deleting(sim: SimLines) -> None:
    modem = sim.modem()
    driver = await prepared(sim, modem)
    handset = sim.network.handset(CUSTOMER)
    try:
        await driver.select_storage("SM", "SM", "SM")
        handset.send(modem.msisdn, "one")
        handset.send(modem.msisdn, "two")
        await asyncio.sleep(0.05)
        listed = await driver.list_messages()
        assert [(m.memory, m.index, m.stat) for m in listed] == [("SM", 1, 0), ("SM", 2, 0)]
        texts = []
        for message in listed:
            decoded = decode_pdu(message.pdu)
            assert not isinstance(decoded, Submit)
            texts.append(getattr(decoded, "text", None))
        assert texts == ["one", "two"]
        read = await driver.read_message(2)
        assert read is not None
        assert (read.pdu, read.stat) == (listed[1].pdu, 1)
        await driver.delete_message(1)
        assert await driver.read_message(1) is None
        assert [m.index for m in await driver.list_messages()] == [2]
    finally:
        await driver.close()
