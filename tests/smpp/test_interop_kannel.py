"""Proof of realism: Kannel (bearerbox and smsbox, a third-party ESME) binds to the simulated
SMSC over SMPP, sends a text that reaches a handset, and receives one a handset sent."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TypeVar

import aiohttp
import pytest
from aiohttp import web

from gateway.sim.runner import SimRunner
from tests.conftest import require_tool
from tests.e2e.conftest import free_port
from tests.pipeline.conftest import eventually

pytestmark = [pytest.mark.interop, pytest.mark.slow]

PHONE = "+15559990000"
UNICODE_IN = "Привет 👋 from a phone"
LONG_OUT = ("Kannel sends a long text through the simulated SMSC in several parts. " * 4)[:250]

T = TypeVar("T")


def _kannel_config(directory: Path, smsc_port: int, admin: int, smsbox: int, sendsms: int,
                   mo_url: str) -> Path:
    config = directory / "kannel.conf"
    config.write_text(f"""group = core
admin-port = {admin}
admin-password = admin
smsbox-port = {smsbox}
box-allow-ip = 127.0.0.1
log-file = "{directory / 'bearerbox.log'}"
log-level = 1

group = smsc
smsc = smpp
smsc-id = sim
host = 127.0.0.1
port = {smsc_port}
transceiver-mode = true
smsc-username = gateway
smsc-password = secret
system-type = ""
source-addr-ton = 0
source-addr-npi = 1
dest-addr-ton = 1
dest-addr-npi = 1
enquire-link-interval = 5
reconnect-delay = 1

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {smsbox}
sendsms-port = {sendsms}
log-file = "{directory / 'smsbox.log'}"
log-level = 1
mo-recode = true

group = sendsms-user
username = tester
password = secret
max-messages = 10
concatenation = true

group = sms-service
keyword = default
catch-all = true
get-url = "{mo_url}?from=%p&to=%P&text=%a"
max-messages = 0
""")
    return config


@pytest.fixture
async def sim(tmp_path: Path) -> AsyncIterator[SimRunner]:
    require_tool(shutil.which("bearerbox") is not None and shutil.which("smsbox") is not None,
                 "Kannel is not installed (apt-get install kannel)")
    async with SimRunner(modems=0, smpp=("127.0.0.1", 0), directory=tmp_path / "dev") as runner:
        yield runner


@pytest.mark.timeout(240)  # two daemons of Kannel's start on a loaded machine
async def test_kannel_binds_sends_and_receives_through_the_simulated_smsc(
    sim: SimRunner, tmp_path: Path
) -> None:
    assert sim.smpp is not None
    received: asyncio.Queue[dict[str, str]] = asyncio.Queue()

    async def mo(request: web.Request) -> web.Response:
        received.put_nowait(dict(request.query))
        return web.Response(text="")

    app = web.Application()
    app.router.add_get("/mo", mo)
    runner = web.AppRunner(app)
    await runner.setup()
    mo_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", mo_port).start()
    admin, smsbox_port, sendsms = (free_port() for _ in range(3))
    config = _kannel_config(tmp_path, sim.smpp.port, admin, smsbox_port, sendsms,
                            f"http://127.0.0.1:{mo_port}/mo")
    bearerbox = await asyncio.create_subprocess_exec(
        "bearerbox", str(config), stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL)
    smsbox: asyncio.subprocess.Process | None = None
    try:
        smsc = sim.smpp
        await eventually(lambda: _async(smsc.status()), lambda s: bool(s["bound"]), 30)
        # bearerbox is up (it has bound): smsbox may connect to it now.
        smsbox = await asyncio.create_subprocess_exec(
            "smsbox", str(config), stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL)

        async with aiohttp.ClientSession() as http:
            params = {"username": "tester", "password": "secret", "to": PHONE,
                      "from": smsc.number, "text": LONG_OUT}
            url = f"http://127.0.0.1:{sendsms}/cgi-bin/sendsms"

            async def send() -> int:
                assert smsbox is not None
                if smsbox.returncode is not None:
                    pytest.fail(f"smsbox exited ({smsbox.returncode}): {_tail(tmp_path)}")
                try:
                    async with http.get(url, params=params) as response:
                        return response.status
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.2)
                    return 0  # smsbox is still starting

            try:
                await eventually(send, lambda status: status == 202, 90)
            except BaseException:
                print(_tail(tmp_path))  # shown with the failure
                raise
        handset = sim.network.handset(PHONE)
        await eventually(lambda: _async(list(handset.inbox)), lambda i: len(i) == 1, 30)
        assert handset.inbox[0].from_ == smsc.number
        assert handset.inbox[0].text == LONG_OUT
        assert handset.inbox[0].parts == 2

        handset.send(smsc.number, UNICODE_IN)
        async with asyncio.timeout(30):
            got = await received.get()
        assert got["from"] == PHONE
        assert got["to"] == smsc.number
        assert got["text"] == UNICODE_IN
        assert smsc.status()["waiting_for_ack"] == 0
    finally:
        processes = [p for p in (smsbox, bearerbox) if p is not None]
        for process in processes:
            if process.returncode is None:
                process.terminate()
        for process in processes:
            try:
                async with asyncio.timeout(10):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()
        await runner.cleanup()


def _tail(directory: Path) -> str:
    """The end of Kannel's own logs, to say why it did not answer."""
    logs = []
    for name in ("bearerbox.log", "smsbox.log"):
        path = directory / name
        text = path.read_text(errors="replace") if path.exists() else "(none)"
        logs.append(f"--- {name}\n" + "\n".join(text.splitlines()[-15:]))
    return "\n".join(logs)


async def _async(value: T) -> T:
    return value
