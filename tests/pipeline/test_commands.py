"""`sms-gateway send` and `sms-gateway status` against a running daemon."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import yaml

from gateway.config import load_config
from gateway.daemon import Daemon
from gateway.sms import Submit, decode_pdu
from tests.pipeline.conftest import CUSTOMER, LINE_NUMBER, daemon_config


async def _cli(*args: str, cwd: Path) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway", *args, cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_send_waits_for_delivery_and_status_shows_the_line(tmp_path: Path) -> None:
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(daemon_config(tmp_path)))
    daemon = Daemon(load_config(config_path))
    await daemon.start()
    try:
        await daemon.supervisors["demo"].wait_for_state(lambda s: s.can_send, timeout_s=10)
        code, out, err = await _cli(
            "send", "--config", str(config_path), "--to", "555-765-4321", "--wait",
            "Test from admin", cwd=tmp_path,
        )
        assert code == 0, err
        queued, final = (json.loads(line) for line in out.splitlines())
        assert final["message_id"] == queued["message_id"]
        assert [p["status"] for p in final["parts"]] == ["delivered"]
        assert daemon.sim is not None
        inbox = daemon.sim.network.handset(CUSTOMER).inbox
        assert [(m.from_, m.text) for m in inbox] == [(LINE_NUMBER, "Test from admin")]
        # The number stored is the number dialled: the local format read as E.164.
        assert daemon.store is not None
        message = await daemon.store.messages.get(queued["message_id"])
        submit = decode_pdu(message.parts[0].pdu)
        assert isinstance(submit, Submit)
        assert message.phone == submit.destination.number == CUSTOMER

        code, out, err = await _cli("status", "--config", str(config_path), cwd=tmp_path)
        assert code == 0, err
        assert "1/1 lines up" in out
        assert "demo" in out
        assert "ready" in out
    finally:
        await daemon.stop()


async def test_send_while_the_daemon_is_down_goes_out_on_its_next_start(tmp_path: Path) -> None:
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(daemon_config(tmp_path)))
    code, _out, err = await _cli(
        "send", "--config", str(config_path), "--to", CUSTOMER, "Queued while down", cwd=tmp_path
    )
    assert code == 0, err
    assert "next start" in err
    daemon = Daemon(load_config(config_path))
    await daemon.start()
    try:
        assert daemon.sim is not None
        inbox = await daemon.sim.network.handset(CUSTOMER).wait_for_inbox(1, timeout_s=15)
        assert [m.text for m in inbox] == ["Queued while down"]
    finally:
        await daemon.stop()


async def test_status_says_clearly_when_the_daemon_is_not_running(tmp_path: Path) -> None:
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(daemon_config(tmp_path)))
    code, _out, err = await _cli("status", "--config", str(config_path), cwd=tmp_path)
    assert code == 1
    assert "not running" in err
