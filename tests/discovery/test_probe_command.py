"""`sms-gateway probe`: the admin's table, JSON, exit status, and the config it works without."""

from __future__ import annotations

import asyncio
import io
import json
import sys
from pathlib import Path

import pytest

from gateway.cli import build_parser, main
from gateway.commands.probe import probe_command
from gateway.sim import SimRunner


@pytest.fixture(autouse=True)
def _no_default_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --config the command reads ./config.yaml: keep the repository's demo one out."""
    monkeypatch.setattr("gateway.config_source.DEFAULT_CONFIG_PATHS", (tmp_path / "absent.yaml",))


async def _probe(*argv: str) -> tuple[int, str, str]:
    args = build_parser().parse_args(["probe", *argv])
    out, err = io.StringIO(), io.StringIO()
    status = await probe_command(args, out=out, err=err)
    return status, out.getvalue(), err.getvalue()


def _config(tmp_path: Path, sim: SimRunner) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        "modems: auto\n"
        "lines:\n"
        f'  - {{name: support, number: "+15550100", iccid: "{sim.modem("modem2").iccid}"}}\n'
        "discovery:\n"
        "  watch_dirs: [sim]\n"
        f'  candidates: ["{tmp_path}/sim/*"]\n'
        "  probe_timeout_s: 2\n"
    )
    return path


async def test_table_lists_each_port_with_its_modem_and_sim(
    sim: SimRunner, silent_tty: str
) -> None:
    first = sim.device("modem1")
    status, out, _ = await _probe("--timeout", "1", first, sim.device("modem2"), silent_tty)

    assert status == 0
    header, row1, row2, row3, blank, summary, note = out.splitlines()
    assert header.split() == [
        "DEVICE", "AT", "MODEL", "IMEI", "SIM", "ICCID", "NUMBER", "SIGNAL", "REG", "LINE",
    ]
    assert row1.split() == [
        first, "yes", "SimModem", "GSM-27005", "356938035643809", "READY",
        sim.modem("modem1").iccid, "+15551230001", "-71", "dBm", "(21)", "home", "-",
    ]
    assert row2.split()[:3] == [sim.device("modem2"), "yes", "huawei"]
    assert row3.split() == [silent_tty, "no", *["-"] * 8]
    assert blank == ""
    assert summary == "2 of 3 port(s) answered AT"
    assert note == f"{silent_tty}: no answer to AT within 1 s"


async def test_json_names_the_configured_line_of_each_sim(sim: SimRunner, tmp_path: Path) -> None:
    config = _config(tmp_path, sim)
    status, out, _ = await _probe("--json", "--config", str(config), sim.device("modem2"))

    assert status == 0
    report = json.loads(out)
    assert report["answered"] == 1
    (port,) = report["ports"]
    assert port["device"] == sim.device("modem2")
    assert port["resolved"] == sim.ports["modem2"].slave_name
    assert port["answers_at"] is True
    assert (port["manufacturer"], port["model"]) == ("huawei", "E3372")
    assert port["imei"] == "866425020149711"
    assert (port["iccid"], port["imsi"]) == (sim.modem("modem2").iccid, sim.modem("modem2").imsi)
    assert port["own_number"] == "+15551230002"
    assert port["sim_state"] == "READY"
    assert (port["signal_csq"], port["signal_dbm"], port["registration"]) == (21, -71, "home")
    assert port["error"] is None
    assert port["line"] == "support"


async def test_without_devices_every_candidate_port_is_probed(
    sim: SimRunner, tmp_path: Path
) -> None:
    status, out, _ = await _probe("--json", "--config", str(_config(tmp_path, sim)))

    assert status == 0
    ports = json.loads(out)["ports"]
    assert [p["device"] for p in ports] == [sim.device(f"modem{i}") for i in (1, 2, 3)]
    assert [p["line"] for p in ports] == [None, "support", None]


async def test_no_modem_answering_exits_1(silent_tty: str) -> None:
    status, out, _ = await _probe("--json", "--timeout", "0.3", silent_tty, "/dev/no-such-tty")
    assert status == 1
    report = json.loads(out)
    assert report["answered"] == 0
    assert [p["error"] for p in report["ports"]] == [
        "no answer to AT within 0.3 s",
        "no such device",
    ]


async def test_works_without_a_config_file(silent_tty: str) -> None:
    status, out, err = await _probe("--timeout", "0.3", silent_tty)
    assert status == 1
    assert err == ""
    assert out.splitlines()[0].startswith("DEVICE")


async def test_no_ports_found(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        f'discovery: {{watch_dirs: [none], candidates: ["{tmp_path}/ttyUSB*"]}}\n'
    )
    status, out, _ = await _probe("--config", str(config))
    assert status == 1
    assert out.startswith("no serial ports found (looked for ")


async def test_bad_config_is_bad_usage(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("discovery:\n  probe_timeout_s: -1\n")
    status, out, err = await _probe("--config", str(config))
    assert status == 2
    assert out == ""
    assert "discovery.probe_timeout_s" in err


def test_bad_arguments_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["probe", "--timeout", "0"], ["probe", "--baud", "1234"], ["probe", "--nope"]):
        with pytest.raises(SystemExit) as exited:
            main(argv)
        assert exited.value.code == 2
    assert "--timeout: must be more than 0 seconds" in capsys.readouterr().err


@pytest.mark.slow
async def test_command_line_end_to_end(sim: SimRunner, tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway",
        "probe",
        "--json",
        sim.device("modem1"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=tmp_path,
    )
    try:
        async with asyncio.timeout(40):
            out, err = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, err.decode()
    (port,) = json.loads(out)["ports"]
    assert (port["device"], port["iccid"]) == (sim.device("modem1"), sim.modem("modem1").iccid)
