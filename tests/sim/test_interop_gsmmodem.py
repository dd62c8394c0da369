"""Proof of realism: python-gsmmodem-new's GsmModem drives a simulated modem over a real pty."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from gsmmodem.modem import GsmModem

from gateway.sim.modem import SimModem
from gateway.sim.runner import SimRunner
from tests.sim.helpers import eventually

pytestmark = pytest.mark.interop

PHONE = "+15559990000"


def _read_and_deleted_report(modem: SimModem) -> bool:
    commands = [e.text for e in modem.transcript if e.direction == "in"]
    if 'AT+CPMS="SR"' not in commands or modem.storage["SR"].used:
        return False
    after = commands[len(commands) - 1 - commands[::-1].index('AT+CPMS="SR"') :]
    return any(c.startswith("AT+CMGD=") for c in after)


def _notification_threads() -> list[threading.Thread]:
    """GsmModem handles each URC in a thread of its own."""
    return [t for t in threading.enumerate() if "HandleModemNotification" in t.name]


async def test_gsmmodem_connects_receives_via_cmti_and_sends() -> None:
    async with SimRunner(modems=1, profile="generic", boot_delay_s=0.05) as sim:
        modem = sim.modem("modem1")
        received: list[tuple[str, str]] = []
        arrived = threading.Event()

        def on_sms(sms: Any) -> None:
            received.append((sms.number, sms.text))
            arrived.set()

        client = GsmModem(sim.device("modem1"), 115200, smsReceivedCallbackFunc=on_sms)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, client.connect)
        try:
            assert await loop.run_in_executor(None, lambda: client.manufacturer) == "SimModem"

            sim.network.handset(PHONE).send(modem.msisdn, "hello over +CMTI")
            assert await loop.run_in_executor(None, arrived.wait, 10.0)
            assert received == [(PHONE, "hello over +CMTI")]
            # GsmModem reads the message and then deletes it from the modem's storage.
            await eventually(lambda: modem.storage["ME"].used == 0)

            await loop.run_in_executor(None, client.sendSms, PHONE, "hello from GsmModem")
            inbox = await sim.network.handset(PHONE).wait_for_inbox(1)
            assert [(m.from_, m.text) for m in inbox] == [(modem.msisdn, "hello from GsmModem")]
            # It asks for a status report (TP-SRR): +CDSI, then it reads and deletes the report
            # in a thread of its own. Let that finish before closing.
            await eventually(lambda: _read_and_deleted_report(modem))
            await eventually(lambda: not _notification_threads())
        finally:
            await loop.run_in_executor(None, client.close)
        transcript = [e.text for e in modem.transcript if e.direction == "in"]
        assert 'AT+CPMS="ME","ME","ME"' in transcript
        assert "AT+CNMI=2,1,0,2" in transcript
