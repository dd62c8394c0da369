"""Proof of realism: the gammu command line drives simulated modems over real ptys."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.sim.runner import SimRunner
from tests.conftest import require_tool

pytestmark = [pytest.mark.interop, pytest.mark.slow]

PHONE = "+15559990000"
LONG_TEXT = ("Multipart test message from gammu sendsms with length 400. " * 8)[:400]
INBOUND_LONG = ("A handset writes a long message that needs three parts to arrive. " * 6)[:330]
INBOUND_UNICODE = "Привет 👋 from a phone"
GAMMU_TIMEOUT_S = 40.0


@pytest.fixture
async def sim(tmp_path: Path) -> AsyncIterator[SimRunner]:
    require_tool(
        shutil.which("gammu") is not None, "gammu is not installed (apt-get install gammu)"
    )
    async with SimRunner(modems=3, profile="quectel", directory=tmp_path / "dev") as runner:
        yield runner


async def gammu(sim: SimRunner, modem: str, tmp_path: Path, *args: str) -> str:
    config = tmp_path / f"gammurc-{modem}"
    config.write_text(f"[gammu]\ndevice = {sim.device(modem)}\nconnection = at\n")
    process = await asyncio.create_subprocess_exec(
        "gammu",
        "-c",
        str(config),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "HOME": str(tmp_path), "LC_ALL": "C.UTF-8"},
    )
    try:
        async with asyncio.timeout(GAMMU_TIMEOUT_S):
            out, _ = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    text = out.decode("utf-8", errors="replace")
    assert process.returncode == 0, f"gammu {' '.join(args)} failed:\n{text}"
    return text


async def _identify(sim: SimRunner, tmp_path: Path) -> None:
    out = await gammu(sim, "modem1", tmp_path, "identify")
    assert re.search(r"Manufacturer\s+: Quectel", out), out
    assert re.search(r"IMEI\s+: 356938035643809", out), out
    assert re.search(r"SIM IMSI\s+: 001010123456789", out), out


async def _send(sim: SimRunner, tmp_path: Path) -> None:
    out = await gammu(
        sim, "modem2", tmp_path, "sendsms", "TEXT", PHONE, "-text", "hello from gammu"
    )
    assert "OK, message reference=" in out, out
    out = await gammu(
        sim, "modem2", tmp_path, "sendsms", "TEXT", PHONE, "-len", "400", "-text", LONG_TEXT
    )
    assert out.count("OK, message reference=") == 3, out


async def _read(sim: SimRunner, tmp_path: Path) -> str:
    phone = sim.network.handset("+15559990001")
    phone.send(sim.modem("modem3").msisdn, INBOUND_LONG)
    phone.send(sim.modem("modem3").msisdn, INBOUND_UNICODE)
    return await gammu(sim, "modem3", tmp_path, "getallsms")


async def test_gammu_identifies_sends_and_reads(sim: SimRunner, tmp_path: Path) -> None:
    _, _, listing = await asyncio.gather(
        _identify(sim, tmp_path), _send(sim, tmp_path), _read(sim, tmp_path)
    )

    inbox = sim.network.handset(PHONE).inbox
    assert [(m.from_, m.text, m.parts) for m in inbox] == [
        ("+15551230002", "hello from gammu", 1),
        ("+15551230002", LONG_TEXT, 3),
    ]

    # getallsms prints every stored part with its concatenation header.
    blocks = re.split(r"^Location ", listing, flags=re.MULTILINE)[1:]
    parts: dict[int, str] = {}
    singles: list[str] = []
    for block in blocks:
        assert 'Remote number        : "+15559990001"' in block, block
        body = block.split("\n\n")[1]
        header = re.search(r"part (\d) of 3", block)
        if header:
            parts[int(header.group(1))] = body
        else:
            singles.append(body.strip())
    assert "".join(parts[i] for i in (1, 2, 3)) == INBOUND_LONG
    assert singles == [INBOUND_UNICODE]
    assert "4 SMS parts in 4 SMS sequences" in listing
