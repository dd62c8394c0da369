"""ModemSupervisor against the simulated network: every fault the simulator offers, and the sinks'
guarantees (nothing deleted or acknowledged before the sink returned, nothing lost or doubled).
Each test runs over a real pty and over the in-memory transport.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from structlog.testing import capture_logs

from gateway.modem import (
    CmsError,
    LineUnavailableError,
    RawDelivery,
    StoredMessage,
    SubmitUnconfirmedError,
)
from gateway.sim.faults import apply_fault
from gateway.sms import Deliver, StatusReport, decode_pdu, encode_deliver, encode_submit
from tests.modem.conftest import CUSTOMER, Line, SimLines, until

StartLine = Callable[..., Awaitable[Line]]


def texts(items: list[Any]) -> list[str | None]:
    decoded = [decode_pdu(item.pdu) for item in items]
    return [d.text if isinstance(d, Deliver) else None for d in decoded]


def stored(line: Line, memory: str = "SM") -> list[int]:
    return [m.index for m in line.modem.storage[memory].snapshot()]


async def send_text(line: Line, text: str, *, report: bool = False) -> list[int]:
    message = encode_submit(text, CUSTOMER, status_report=report)
    return [await line.supervisor.send_part(p.pdu, p.tpdu_length) for p in message.parts]


async def test_ready_line_is_identified_by_its_sim(start_line: StartLine) -> None:
    line = await start_line()
    state = line.supervisor.state
    assert state.status == "ready"
    assert state.identity.iccid == line.modem.iccid
    assert state.identity.imsi == line.modem.imsi
    assert state.identity.own_number == line.modem.msisdn
    assert (state.registration, state.signal_dbm, state.smsc) == ("home", -71, "+15550000000")
    assert line.modem.settings.cnmi == (2, 1, 0, 1, 0)
    assert [s.status for s in line.states][:2] == ["connecting", "initialising"]


@pytest.mark.parametrize("profile", ["generic", "huawei", "simcom", "quectel", "wavecom"])
async def test_every_profile_initialises_receives_and_sends(
    sim: SimLines, start_line: StartLine, profile: str
) -> None:
    line = await start_line(sim.modem(profile))
    assert line.supervisor.identity.imei == line.modem.profile.imei
    sim.network.handset(CUSTOMER).send(line.modem.msisdn, "hello from a customer")
    assert texts(await line.inbound.wait_for(1)) == ["hello from a customer"]
    await send_text(line, "hello back")
    assert [m.text for m in await sim.network.handset(CUSTOMER).wait_for_inbox(1)] == ["hello back"]


async def test_messages_stored_while_down_are_swept_at_start(
    sim: SimLines, start_line: StartLine
) -> None:
    modem = sim.modem()
    handset = sim.network.handset(CUSTOMER)
    for n in range(3):
        handset.send(modem.msisdn, f"while you were away {n}")
    await until(lambda: modem.storage["SM"].used == 3)
    line = await start_line(modem)
    items = await line.inbound.wait_for(3)
    assert sorted(texts(items)) == [f"while you were away {n}" for n in range(3)]  # type: ignore[type-var]
    assert all(isinstance(i, StoredMessage) and i.memory == "SM" for i in items)
    await until(lambda: stored(line) == [])
    assert line.inbound.present_on_modem == [True, True, True]


async def test_a_failing_sink_deletes_nothing_and_gets_the_message_again(
    sim: SimLines, start_line: StartLine
) -> None:
    line = await start_line()
    line.inbound.failures_left = 2
    sim.network.handset(CUSTOMER).send(line.modem.msisdn, "keep me")
    await until(lambda: line.inbound.calls >= 1)
    assert stored(line) == [1]  # the sink raised: still on the modem
    items = await line.inbound.wait_for(1)
    assert texts(items) == ["keep me"]
    assert line.inbound.calls == 3
    assert line.inbound.present_on_modem == [True, True, True]
    await until(lambda: stored(line) == [])
    await asyncio.sleep(0.1)
    assert len(line.inbound.committed) == 1  # committed exactly once


async def test_a_swept_burst_is_deleted_several_to_a_command_line(
    sim: SimLines, start_line: StartLine
) -> None:
    modem = sim.modem()
    handset = sim.network.handset(CUSTOMER)
    for n in range(12):
        handset.send(modem.msisdn, f"burst {n}")
    await until(lambda: modem.storage["SM"].used == 12)
    line = await start_line(modem)
    await line.inbound.wait_for(12)
    await until(lambda: stored(line) == [])
    assert all(line.inbound.present_on_modem)
    deletes = [e.text for e in modem.transcript if e.direction == "in" and "CMGD" in e.text]
    assert deletes
    assert deletes[0].count("+CMGD=") > 1
    assert sum(text.count("+CMGD=") for text in deletes) == 12


async def test_full_storage_empties_and_nothing_is_lost_or_doubled(
    sim: SimLines, start_line: StartLine
) -> None:
    line = await start_line()
    line.inbound.failures_left = 3  # the database is locked for a while
    apply_fault(line.modem, "storage_full", {"memory": "SM", "capacity": 2})
    handset = sim.network.handset(CUSTOMER)
    for n in range(6):
        handset.send(line.modem.msisdn, f"burst {n}")
    items = await line.inbound.wait_for(6, timeout_s=8)
    assert sorted(texts(items)) == [f"burst {n}" for n in range(6)]  # type: ignore[type-var]
    assert all(line.inbound.present_on_modem)
    await asyncio.sleep(0.2)
    assert len(line.inbound.committed) == 6
    assert stored(line) == []


async def test_multipart_burst_arrives_whole_exactly_once(
    sim: SimLines, start_line: StartLine
) -> None:
    line = await start_line()
    handset = sim.network.handset(CUSTOMER)
    long_text = "Multipart test message, long enough for three parts. " * 6
    parts = handset.send(line.modem.msisdn, long_text)
    assert parts == 3
    items = await line.inbound.wait_for(3)
    decoded = [decode_pdu(i.pdu) for i in items]
    assert all(isinstance(d, Deliver) for d in decoded)
    by_seq = {d.concat.seq: d.text for d in decoded if isinstance(d, Deliver) and d.concat}
    assert "".join(by_seq[s] or "" for s in sorted(by_seq)) == long_text


async def test_routed_delivery_is_acknowledged_only_after_the_sink(
    sim: SimLines, start_line: StartLine
) -> None:
    line = await start_line()
    line.modem.settings.cnmi = (2, 2, 0, 1, 0)  # this modem routes messages as +CMT
    line.inbound.failures_left = 1
    sim.network.handset(CUSTOMER).send(line.modem.msisdn, "routed")
    items = await line.inbound.wait_for(1)
    assert texts(items) == ["routed"]
    assert isinstance(items[0], RawDelivery)
    assert line.inbound.calls == 2  # refused with +CNMA=2, redelivered by the network
    await until(lambda: line.modem.pending_ack is None)
    assert line.modem.settings.cnmi == (2, 2, 0, 1, 0)  # no ack timeout turned routing off


async def test_status_reports_routed_or_stored_reach_the_report_sink(
    sim: SimLines, start_line: StartLine
) -> None:
    line = await start_line()
    [mr] = await send_text(line, "report please", report=True)
    routed = await line.reports.wait_for(1)
    assert isinstance(routed[0], RawDelivery)
    line.modem.settings.cnmi = (2, 1, 0, 2, 0)  # reports stored in SR, announced by +CDSI
    [mr2] = await send_text(line, "and another", report=True)
    reports = await line.reports.wait_for(2)
    assert isinstance(reports[1], StoredMessage)
    assert reports[1].memory == "SR"
    decoded = [decode_pdu(r.pdu) for r in reports]
    assert [d.mr for d in decoded if isinstance(d, StatusReport)] == [mr, mr2]
    await until(lambda: stored(line, "SR") == [])


async def test_reboot_is_detected_and_the_modem_initialised_again(
    sim: SimLines, start_line: StartLine
) -> None:
    line = await start_line()
    apply_fault(line.modem, "reboot", {"boot_ms": 50})
    await line.wait_status("initialising")
    await line.ready()
    assert line.modem.settings.cnmi == (2, 1, 0, 1, 0)
    assert line.modem.settings.echo is False
    sim.network.handset(CUSTOMER).send(line.modem.msisdn, "after the reboot")
    assert texts(await line.inbound.wait_for(1)) == ["after the reboot"]


@pytest.mark.parametrize("profile", ["huawei", "quectel", "wavecom"])
async def test_vendor_boot_urcs_lead_to_reinitialisation(
    sim: SimLines, start_line: StartLine, profile: str
) -> None:
    line = await start_line(sim.modem(profile))
    apply_fault(line.modem, "reboot", {"boot_ms": 50})
    await line.supervisor.wait_for_state(lambda s: s.status != "ready", 3)
    await line.ready()
    await until(lambda: line.modem.settings.cnmi == (2, 1, 0, 1, 0))
    sim.network.handset(CUSTOMER).send(line.modem.msisdn, "still here")
    assert texts(await line.inbound.wait_for(1)) == ["still here"]


async def test_a_hung_modem_is_reset_and_recovers(sim: SimLines, start_line: StartLine) -> None:
    line = await start_line()
    apply_fault(line.modem, "hang", {})
    await line.wait_status("down", timeout_s=3)
    assert line.supervisor.state.last_error is not None
    with pytest.raises(LineUnavailableError):
        await send_text(line, "not now")
    sim.network.handset(CUSTOMER).send(line.modem.msisdn, "sent during the hang")
    apply_fault(line.modem, "unhang", {})
    await line.ready(timeout_s=5)
    assert texts(await line.inbound.wait_for(1)) == ["sent during the hang"]


async def test_silence_alone_is_detected(sim: SimLines, start_line: StartLine) -> None:
    # The health poll is slower than the silence limit here, so only the silence watch can see it.
    line = await start_line(health_poll_interval_s=5.0, silence_timeout_s=0.5 + 5.0)
    apply_fault(line.modem, "hang", {})
    line2 = await start_line(
        sim.modem(), health_poll_interval_s=0.2, silence_timeout_s=0.6, command_timeout_s=5.0
    )
    apply_fault(line2.modem, "hang", {})
    await line2.wait_status("down", timeout_s=3)
    assert "nothing received" in (line2.supervisor.state.last_error or "")
    assert line.supervisor.state.status == "ready"  # its limit has not passed yet


async def test_unplug_is_seen_at_once_and_replug_brings_the_line_back(
    sim: SimLines, start_line: StartLine
) -> None:
    line = await start_line()
    apply_fault(line.modem, "unplug", {})
    await line.wait_status("down", timeout_s=0.5)
    with pytest.raises(LineUnavailableError):
        await send_text(line, "nobody there")
    await asyncio.sleep(0.2)  # a few failed reopen attempts
    apply_fault(line.modem, "replug", {"boot_ms": 20})
    await line.ready(timeout_s=5)
    assert line.supervisor.identity.iccid == line.modem.iccid
    await send_text(line, "back")
    assert [m.text for m in await sim.network.handset(CUSTOMER).wait_for_inbox(1)] == ["back"]


async def test_unplug_during_a_multipart_send_loses_and_doubles_nothing(
    sim: SimLines, start_line: StartLine
) -> None:
    line = await start_line()
    handset = sim.network.handset(CUSTOMER)
    parts = encode_submit("z" * 400, CUSTOMER).parts
    assert len(parts) == 3
    await line.supervisor.send_part(parts[0].pdu, parts[0].tpdu_length)
    apply_fault(line.modem, "slow", {"per_response_ms": 300})
    second = asyncio.create_task(line.supervisor.send_part(parts[1].pdu, parts[1].tpdu_length))
    await until(lambda: any(parts[1].pdu in e.text for e in line.modem.transcript))
    apply_fault(line.modem, "unplug", {})
    with pytest.raises(SubmitUnconfirmedError):
        await second  # the pipeline marks this part "unknown" rather than sending it again
    assert line.supervisor.state.status == "down"
    with pytest.raises(LineUnavailableError):
        await line.supervisor.send_part(parts[2].pdu, parts[2].tpdu_length)
    apply_fault(line.modem, "slow", {})
    apply_fault(line.modem, "replug", {"boot_ms": 20})
    await line.ready(timeout_s=5)
    await line.supervisor.send_part(parts[2].pdu, parts[2].tpdu_length)
    inbox = await handset.wait_for_inbox(1)
    assert [(m.parts, m.text) for m in inbox] == [(3, "z" * 400)]
    seqs = sorted(p.concat.seq for p in handset.received_parts if p.concat)
    assert seqs == [1, 2, 3]


async def test_deregistration_makes_the_line_unavailable_until_it_registers(
    sim: SimLines, start_line: StartLine
) -> None:
    line = await start_line()
    apply_fault(line.modem, "deregister", {"stat": 2})
    await line.supervisor.wait_for_state(lambda s: s.registration == "searching", 2)
    assert line.supervisor.state.status == "ready"
    assert not line.supervisor.state.can_send
    with pytest.raises(LineUnavailableError) as unavailable:
        await send_text(line, "no network")
    assert "not registered" in unavailable.value.reason
    sim.network.handset(CUSTOMER).send(line.modem.msisdn, "held by the network")
    apply_fault(line.modem, "register", {})
    await line.supervisor.wait_for_state(lambda s: s.registration == "home", 2)
    await send_text(line, "network again")
    assert texts(await line.inbound.wait_for(1)) == ["held by the network"]


async def test_cms_errors_reach_the_caller_with_their_class(start_line: StartLine) -> None:
    line = await start_line()
    apply_fault(line.modem, "send_failure", {"cms": 42})
    with pytest.raises(CmsError) as congestion:
        await send_text(line, "congested")
    assert congestion.value.retryable
    apply_fault(line.modem, "send_failure", {"cms": 304})
    with pytest.raises(CmsError) as bad_pdu:
        await send_text(line, "bad")
    assert not bad_pdu.value.retryable
    assert line.supervisor.state.status == "ready"
    await send_text(line, "fine now")


async def test_garbage_and_urcs_inside_replies_do_not_disturb_the_line(
    sim: SimLines, start_line: StartLine
) -> None:
    line = await start_line()
    modem = line.modem
    modem.storage["SM"].store(encode_deliver_pdu("quietly stored"), "deliver")
    apply_fault(modem, "urc_in_reply", {"urc": '+CMTI: "SM",1'})
    apply_fault(modem, "garbage", {"length": 64, "seed": 3})
    await send_text(line, "a reply carries the +CMTI")
    assert texts(await line.inbound.wait_for(1)) == ["quietly stored"]
    apply_fault(modem, "garbage", {"length": 64, "seed": 4})
    sim.network.handset(CUSTOMER).send(modem.msisdn, "after the noise")
    assert texts(await line.inbound.wait_for(2))[1] == "after the noise"
    assert line.supervisor.state.status == "ready"


def encode_deliver_pdu(text: str) -> str:
    return encode_deliver(text, CUSTOMER, datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)).parts[0].pdu


async def test_busy_modem_after_start_is_waited_out(sim: SimLines, start_line: StartLine) -> None:
    modem = sim.modem()
    apply_fault(modem, "busy", {"seconds": 0.3})
    apply_fault(modem, "sim_busy", {"seconds": 0.6})
    line = await start_line(modem)
    assert line.supervisor.state.identity.imsi == modem.imsi


async def test_two_modems_one_hangs_the_other_keeps_working(
    sim: SimLines, start_line: StartLine
) -> None:
    stuck = await start_line()
    working = await start_line()
    handset = sim.network.handset(CUSTOMER)
    apply_fault(stuck.modem, "hang", {})
    for n in range(3):
        handset.send(working.modem.msisdn, f"to the working line {n}")
        await send_text(working, f"from the working line {n}")
    await stuck.wait_status("down", timeout_s=3)
    assert len(await working.inbound.wait_for(3)) == 3
    assert len(await handset.wait_for_inbox(3)) == 3
    assert working.supervisor.state.status == "ready"
    apply_fault(stuck.modem, "unhang", {})
    await stuck.ready()


async def test_wrong_pin_is_reported_and_never_tried_again(
    sim: SimLines, start_line: StartLine
) -> None:
    modem = sim.modem(pin="1234")
    line = await start_line(modem, ready=False, pin="0000")
    await line.wait_status("pin_error")
    await asyncio.sleep(0.5)  # several reconnect intervals
    assert modem.sim.pin_attempts == 2  # one wrong try, not three (which would ask for the PUK)
    assert modem.sim.state == "SIM PIN"
    assert "rejected" in (line.supervisor.state.last_error or "")


async def test_right_pin_unlocks_and_puk_is_reported(sim: SimLines, start_line: StartLine) -> None:
    good = await start_line(sim.modem(pin="1234"), pin="1234")
    assert good.supervisor.state.identity.imsi == good.modem.imsi
    locked_modem = sim.modem(pin="1234")
    locked_modem.sim.state = "SIM PUK"
    locked = await start_line(locked_modem, ready=False, pin="1234")
    await locked.wait_status("pin_error")
    assert "PUK" in (locked.supervisor.state.last_error or "")


async def test_stop_lets_an_in_flight_send_finish(sim: SimLines, start_line: StartLine) -> None:
    line = await start_line()
    apply_fault(line.modem, "slow", {"per_response_ms": 150})
    part = encode_submit("last words", CUSTOMER).parts[0]
    sending = asyncio.create_task(line.supervisor.send_part(part.pdu, part.tpdu_length))
    await until(lambda: any(part.pdu in e.text for e in line.modem.transcript))
    await line.supervisor.stop()
    assert isinstance(await sending, int)
    assert line.supervisor.state.status == "down"
    with pytest.raises(LineUnavailableError):
        await line.supervisor.send_part(part.pdu, part.tpdu_length)
    assert [m.text for m in await sim.network.handset(CUSTOMER).wait_for_inbox(1)] == ["last words"]


async def test_repeated_failures_log_a_warning_once_then_debug(
    sim: SimLines, start_line: StartLine
) -> None:
    line = await start_line()
    with capture_logs() as logs:
        apply_fault(line.modem, "unplug", {})
        await line.wait_status("down")
        await until(lambda: sum(e["event"] == "modem_still_down" for e in logs) >= 2)
    downs = [e for e in logs if e["event"] in ("modem_down", "modem_still_down")]
    assert downs[0]["event"] == "modem_down"
    assert downs[0]["log_level"] == "warning"
    assert downs[0]["recent_traffic"]  # the last raw lines, for diagnosis in the field
    assert {e["log_level"] for e in downs[1:]} == {"debug"}
    delays = [e["retry_in_s"] for e in downs]
    assert delays == sorted(delays)
    assert max(delays) <= 0.3


async def test_configured_smsc_is_set_on_the_modem(start_line: StartLine) -> None:
    line = await start_line(smsc="+15557770000")
    assert line.modem.smsc == "+15557770000"
    assert line.supervisor.state.smsc == "+15557770000"


async def test_sends_are_spaced_by_the_minimum_interval(start_line: StartLine) -> None:
    line = await start_line(min_send_interval_s=0.15)
    loop = asyncio.get_running_loop()
    started = loop.time()
    mrs = await send_text(line, "y" * 400)  # three parts
    assert len(mrs) == 3
    assert loop.time() - started >= 0.3


async def test_a_message_indicated_in_another_memory_is_read_from_there(
    sim: SimLines, start_line: StartLine
) -> None:
    line = await start_line()
    # The start-up sweep visits ME too, then selects the line's memories again; wait for it.
    cpms = 'AT+CPMS="SM","SM","SM"'
    await until(lambda: sum(e.text == cpms for e in line.modem.transcript) >= 2)
    line.modem.settings.cpms[2] = "ME"  # e.g. another program changed where messages land
    sim.network.handset(CUSTOMER).send(line.modem.msisdn, "landed in ME")
    items = await line.inbound.wait_for(1)
    assert texts(items) == ["landed in ME"]
    assert isinstance(items[0], StoredMessage)
    assert items[0].memory == "ME"
    await until(lambda: stored(line, "ME") == [])
    assert line.modem.settings.cpms[0] == "SM"  # switched back to the line's read memory


async def test_stop_while_waiting_for_an_administrator(
    sim: SimLines, start_line: StartLine
) -> None:
    line = await start_line(sim.modem(pin="1234"), ready=False)  # no PIN configured
    await line.wait_status("pin_error")
    assert "none is configured" in (line.supervisor.state.last_error or "")
    await line.supervisor.stop()
    assert line.supervisor.state.status == "down"
