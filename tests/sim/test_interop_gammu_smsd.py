"""gammu-smsd (files backend) sends three multipart messages in a row through a simulated modem:
it uses the same concatenation reference for each, and the handset shows all three."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.sim.runner import SimRunner
from tests.conftest import require_tool

pytestmark = [pytest.mark.interop, pytest.mark.slow]

PHONE = "+15559990000"
TEXTS = [(f"Message {n} from gammu-smsd, long enough to need two parts. " * 4)[:200]
         for n in (1, 2, 3)]
SMSD_TIMEOUT_S = 90.0


@pytest.fixture
async def sim(tmp_path: Path) -> AsyncIterator[SimRunner]:
    require_tool(
        shutil.which("gammu-smsd") is not None and shutil.which("gammu-smsd-inject") is not None,
        "gammu-smsd is not installed (apt-get install gammu-smsd)",
    )
    async with SimRunner(modems=1, profile="quectel", directory=tmp_path / "dev") as runner:
        yield runner


def _smsd_config(sim: SimRunner, root: Path) -> Path:
    for folder in ("inbox", "outbox", "sent", "error"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    config = root / "smsdrc"
    config.write_text(
        "[gammu]\n"
        f"device = {sim.device('modem1')}\n"
        "connection = at\n"
        "[smsd]\n"
        "service = files\n"
        f"inboxpath = {root / 'inbox'}/\n"
        f"outboxpath = {root / 'outbox'}/\n"
        f"sentsmspath = {root / 'sent'}/\n"
        f"errorsmspath = {root / 'error'}/\n"
        f"logfile = {root / 'smsd.log'}\n"
        "debuglevel = 1\n"
        "checksecurity = 0\n"
        "checkbattery = 0\n"
        "checksignal = 0\n"
        "commtimeout = 1\n"
        "sendtimeout = 10\n"
        "loopsleep = 1\n"
    )
    return config


async def _run(*args: str, env: dict[str, str]) -> str:
    process = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env=env
    )
    out, _ = await process.communicate()
    text = out.decode("utf-8", errors="replace")
    assert process.returncode == 0, f"{' '.join(args)} failed:\n{text}"
    return text


async def test_three_multipart_messages_from_gammu_smsd_all_reach_the_handset(
    sim: SimRunner, tmp_path: Path
) -> None:
    root = tmp_path / "smsd"
    config = _smsd_config(sim, root)
    env = {**os.environ, "HOME": str(tmp_path), "LC_ALL": "C.UTF-8"}
    for text in TEXTS:
        await _run("gammu-smsd-inject", "-c", str(config), "TEXT", PHONE, "-len", "200",
                   "-text", text, env=env)
    handset = sim.network.handset(PHONE)
    smsd = await asyncio.create_subprocess_exec(
        "gammu-smsd", "-c", str(config), "-L",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL, env=env,
    )
    try:
        inbox = await handset.wait_for_inbox(len(TEXTS), timeout_s=SMSD_TIMEOUT_S)
    except TimeoutError:
        log_file = root / "smsd.log"
        log = log_file.read_text(errors="replace") if log_file.exists() else ""
        pytest.fail(f"handset shows {len(handset.inbox)} of 3 messages; smsd log:\n{log[-3000:]}")
    finally:
        smsd.terminate()
        await smsd.wait()
    refs = {part.concat.ref for part in handset.received_parts if part.concat is not None}
    assert len(refs) == 1, f"gammu-smsd is expected to reuse one reference, used {refs}"
    assert [(m.text, m.parts) for m in inbox] == [(text, 2) for text in TEXTS]
