"""gammu-smsd (files backend) sends three multipart messages in a row through a simulated modem:
messages queued within one second carry the same concatenation reference, and the handset shows
all three (a reference used again after its message completed starts a new message)."""

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
TEXTS = [(f"Message {n} from gammu-smsd, long enough to need two parts. " * 4)[:200]
         for n in (1, 2, 3)]
SMSD_TIMEOUT_S = 90.0
INJECT_ATTEMPTS = 5


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


def _empty(outbox: Path) -> None:
    for stale in outbox.iterdir():
        stale.unlink()


def _first_part_refs(outbox: Path) -> list[int]:
    """The concatenation reference of each queued message, from the UDH of its first part."""
    first = re.compile(r"^UDH = 050003([0-9A-F]{2})0201$", re.MULTILINE)
    return [int(ref, 16) for path in sorted(outbox.iterdir())
            for ref in first.findall(path.read_text(errors="replace"))]


async def _inject_reusing_a_reference(config: Path, outbox: Path, env: dict[str, str]) -> set[int]:
    """Queue the three messages with gammu-smsd-inject, which takes the concatenation reference
    from the clock's second: messages queued within one second share it, as the field saw.
    Queued again (rarely needed) until at least one reference is used twice."""
    for _ in range(INJECT_ATTEMPTS):
        _empty(outbox)
        for text in TEXTS:
            await _run("gammu-smsd-inject", "-c", str(config), "TEXT", PHONE, "-len", "200",
                       "-text", text, env=env)
        refs = _first_part_refs(outbox)
        assert len(refs) == len(TEXTS), refs
        if len(set(refs)) < len(TEXTS):
            return set(refs)
    pytest.fail(f"gammu-smsd-inject used a new reference for every message {INJECT_ATTEMPTS} times")


async def test_three_multipart_messages_from_gammu_smsd_all_reach_the_handset(
    sim: SimRunner, tmp_path: Path
) -> None:
    root = tmp_path / "smsd"
    config = _smsd_config(sim, root)
    env = {**os.environ, "HOME": str(tmp_path), "LC_ALL": "C.UTF-8"}
    refs = await _inject_reusing_a_reference(config, root / "outbox", env)
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
    sent = {part.concat.ref for part in handset.received_parts if part.concat is not None}
    assert sent == refs
    assert [(m.text, m.parts) for m in inbox] == [(text, 2) for text in TEXTS]
