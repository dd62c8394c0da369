"""probe_port over real ptys: simulated modems of several makes, a terminal nobody answers,
a locked SIM, a booting and a hung modem; and list_candidate_ports."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
import serial

from gateway.discovery import ProbeResult, list_candidate_ports, probe_port
from gateway.modem import Identity
from gateway.sim import SimRunner, apply_fault


@pytest.mark.parametrize(
    ("profile", "manufacturer", "model", "imei"),
    [
        ("generic", "SimModem", "GSM-27005", "356938035643809"),
        ("huawei", "huawei", "E3372", "866425020149711"),
        ("wavecom", "WAVECOM MODEM", "MULTIBAND  900E  1800", "012378000130286"),
    ],
)
async def test_probe_identifies_modem_and_sim_of_each_make(
    tmp_path: Path, profile: str, manufacturer: str, model: str, imei: str
) -> None:
    async with SimRunner(modems=1, profile=profile, directory=tmp_path) as sim:
        modem = sim.modems[0]
        modem.rssi = 17
        device = sim.device("modem1")
        resolved = sim.ports["modem1"].slave_name
        assert resolved is not None

        result = await probe_port(device, timeout_s=5.0)

        assert result == ProbeResult(
            device=device,
            resolved=resolved,
            answers_at=True,
            identity=Identity(
                manufacturer=manufacturer,
                model=model,
                revision=result.identity.revision,
                imei=imei,
                imsi=modem.imsi,
                iccid=modem.iccid,
                own_number="+15551230001",
            ),
            sim_state="READY",
            signal_csq=17,
            signal_dbm=-79,
            registration="home",
            error=None,
        )
        assert result.identity.revision
        # Read-only: the error mode is back as found, nothing was stored or configured.
        assert modem.settings.cmee == 0
        sent = [entry.text for entry in modem.transcript if entry.direction == "in"]
        assert not [c for c in sent if c.startswith(("AT+CPIN=", "AT&W", "AT+CFUN=", "AT+CPMS="))]


async def test_port_nobody_answers_times_out_cleanly(silent_tty: str) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    result = await probe_port(silent_tty, timeout_s=0.8)
    waited_s = loop.time() - started

    # Its own timeout ended it (the error says so), after waiting it out; a probe that hung
    # would be stopped by the test's time limit.
    assert result.answers_at is False
    assert result.error == "no answer to AT within 0.8 s"
    assert result.identity.model is None
    assert result.sim_state is None
    assert waited_s >= 0.8


async def test_probe_closes_the_port(tmp_path: Path) -> None:
    async with SimRunner(modems=1, directory=tmp_path) as sim:
        device = sim.device("modem1")
        assert (await probe_port(device, timeout_s=5.0)).answers_at
        # The exclusive lock is gone with the descriptor: another program can take the port.
        port = serial.Serial(device, exclusive=True)
        port.close()


async def test_port_locked_by_another_program_is_reported_busy(tmp_path: Path) -> None:
    async with SimRunner(modems=1, directory=tmp_path) as sim:
        device = sim.device("modem1")
        holder = serial.Serial(device, exclusive=True)
        try:
            result = await probe_port(device, timeout_s=2.0)
        finally:
            holder.close()
        assert result.answers_at is False
        assert result.error == "in use by another program (the port is locked)"
        assert not [e for e in sim.modems[0].transcript if e.direction == "in"]


async def test_sim_waiting_for_pin_is_reported_and_never_unlocked(tmp_path: Path) -> None:
    async with SimRunner(modems=1, directory=tmp_path, pin="1234") as sim:
        modem = sim.modems[0]
        result = await probe_port(sim.device("modem1"), timeout_s=5.0)

        assert result.answers_at is True
        assert result.sim_state == "SIM PIN"
        assert result.identity.model == "GSM-27005"
        assert (result.identity.imsi, result.identity.own_number) == (None, None)
        assert modem.sim.state == "SIM PIN"
        assert modem.sim.pin_attempts == 3


async def test_booting_modem_is_waited_for_within_the_timeout(tmp_path: Path) -> None:
    async with SimRunner(modems=1, directory=tmp_path) as sim:
        modem = sim.modems[0]
        apply_fault(modem, "reboot", {"boot_ms": 700})

        result = await probe_port(sim.device("modem1"), timeout_s=4.0)

        assert result.answers_at is True
        assert result.identity.iccid == modem.iccid


async def test_hung_modem_does_not_hang_the_probe(tmp_path: Path) -> None:
    async with SimRunner(modems=1, directory=tmp_path) as sim:
        apply_fault(sim.modems[0], "hang", {})
        result = await probe_port(sim.device("modem1"), timeout_s=0.6)
        assert result.answers_at is False
        assert result.error == "no answer to AT within 0.6 s"


async def test_missing_device_and_non_serial_file() -> None:
    missing = await probe_port("/dev/no-such-modem", timeout_s=1.0)
    assert (missing.answers_at, missing.error) == (False, "no such device")
    not_tty = await probe_port("/dev/null", timeout_s=1.0)
    assert not_tty.answers_at is False
    assert not_tty.error == "not a serial port (it refuses terminal settings)"


def test_candidates_are_one_name_per_port_preferring_stable_links(
    tmp_path: Path, silent_tty: str
) -> None:
    gsm = tmp_path / "gsm"
    by_id = tmp_path / "by-id"
    gsm.mkdir()
    by_id.mkdir()
    (gsm / "huawei-123-at").symlink_to(silent_tty)
    (by_id / "usb-HUAWEI_Mobile-if02-port0").symlink_to(silent_tty)
    (gsm / "notes.txt").write_text("not a device")
    (gsm / "dangling-at").symlink_to(tmp_path / "gone")
    master, other = os.openpty()
    try:
        other_tty = os.ttyname(other)
        ports = list_candidate_ports([f"{gsm}/*", silent_tty, other_tty], [by_id])
    finally:
        os.close(master)
        os.close(other)

    assert ports == sorted([str(gsm / "huawei-123-at"), other_tty])


def test_candidates_without_any_port(tmp_path: Path) -> None:
    assert list_candidate_ports([f"{tmp_path}/ttyUSB*"], [tmp_path / "missing"]) == []
