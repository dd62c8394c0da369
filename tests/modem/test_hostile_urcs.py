"""A modem's garbage never traps a line, and customers' PDUs stay out of logged traffic."""

from __future__ import annotations

from typing import Any

import pytest
from structlog.testing import capture_logs

from gateway.sim.faults import apply_fault
from gateway.sms import Deliver, decode_pdu, encode_submit
from tests.modem.conftest import CUSTOMER, Line, SimLines, until


def _text(item: Any) -> str | None:
    decoded = decode_pdu(item.pdu)
    return decoded.text if isinstance(decoded, Deliver) else None


def _connects(line: Line) -> int:
    return sum(1 for s in line.states if s.status == "connecting")


@pytest.mark.parametrize(
    "urc", ['+CMTI: "ZZ",1', '+CDSI: "ZZ",1', '+CMTI: "",2', '+CMTI: "' + "Z" * 500 + '",4']
)
async def test_an_unknown_storage_name_in_a_urc_is_ignored_and_the_line_keeps_receiving(
    sim: SimLines, start_line: Any, urc: str
) -> None:
    line: Line = await start_line()
    connects = _connects(line)
    with capture_logs() as logs:
        line.modem.emit_urc(urc, sms=True)
        await until(lambda: any(e["event"] == "urc_unknown_storage_ignored" for e in logs))
    warned = [e for e in logs if e["event"] == "urc_unknown_storage_ignored"]
    assert warned[0]["log_level"] == "warning"
    for n in range(2):
        sim.network.handset(CUSTOMER).send(line.modem.msisdn, f"still here {n}")
        items = await line.inbound.wait_for(n + 1)
        assert _text(items[-1]) == f"still here {n}"
    assert line.supervisor.state.status == "ready"
    assert _connects(line) == connects  # never reconnected
    assert not any('AT+CPMS="ZZ"' in e.text for e in line.modem.transcript)


async def test_unplug_and_replug_after_a_garbage_urc_bring_a_working_line(
    sim: SimLines, start_line: Any
) -> None:
    line: Line = await start_line()
    line.modem.emit_urc('+CMTI: "ZZ",1', sms=True)
    apply_fault(line.modem, "unplug", {})
    await line.wait_status("down")
    apply_fault(line.modem, "replug", {})
    await line.wait_status("ready", timeout_s=10)
    sim.network.handset(CUSTOMER).send(line.modem.msisdn, "after replug")
    assert _text((await line.inbound.wait_for(1))[-1]) == "after replug"


async def _traffic_at_modem_down(sim: SimLines, line: Line) -> tuple[list[str], list[str]]:
    """Receive and send one text, unplug, and return the logged traffic and the PDUs."""
    sim.network.handset(CUSTOMER).send(line.modem.msisdn, "my address is 1 Main St")
    received = await line.inbound.wait_for(1)
    part = encode_submit("we are on our way", CUSTOMER).parts[0]
    await line.supervisor.send_part(part.pdu, part.tpdu_length)
    with capture_logs() as logs:
        apply_fault(line.modem, "unplug", {})
        await line.wait_status("down")
        await until(lambda: any(e["event"] == "modem_down" for e in logs))
    [down] = [e for e in logs if e["event"] == "modem_down"]
    return list(down["recent_traffic"]), [received[0].pdu, part.pdu]


async def test_pdus_in_logged_traffic_are_redacted_by_default(
    sim: SimLines, start_line: Any
) -> None:
    line: Line = await start_line()
    traffic, pdus = await _traffic_at_modem_down(sim, line)
    joined = "\n".join(traffic)
    assert "+CMGL:" in joined
    assert "+CMGS:" in joined
    for pdu in pdus:
        assert pdu not in joined
        assert pdu[20:40] not in joined
    assert "<redacted:" in joined


async def test_pdus_in_logged_traffic_are_shown_when_message_text_may_be_logged(
    sim: SimLines, start_line: Any
) -> None:
    line: Line = await start_line(log_message_text=True)
    traffic, pdus = await _traffic_at_modem_down(sim, line)
    joined = "\n".join(traffic)
    assert pdus[0] in joined
    assert "<redacted:" not in joined
