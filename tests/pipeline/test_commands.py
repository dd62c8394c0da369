"""`sms-gateway send` and `sms-gateway status` against a running daemon, a stopped one, and one
that takes a request without answering it."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest
import yaml

from gateway.config import load_config
from gateway.control import socket_path
from gateway.daemon import Daemon
from gateway.datadir import DataDirInUseError
from gateway.sms import Submit, decode_pdu
from tests.pipeline.conftest import CUSTOMER, LINE_NUMBER, daemon_config
from tests.test_cli import HEAVY, heavy_in, loaded_modules

# `status` and `send` read data_dir with PyYAML, then ask the daemon with the standard library.
HEAVY_BESIDES_YAML = tuple(h for h in HEAVY if h != "yaml")


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
        # The daemon queued it (this process never opened the store) and audited it.
        audit = await daemon.store.accounts.audit_log(limit=5, action="message.send")
        assert [(a.user_id, a.details["message_id"]) for a in audit] == [
            (None, queued["message_id"])]

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
    installed = Daemon(load_config(config_path))  # it has run once, then stopped
    await installed.start()
    await installed.stop()
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


async def test_send_refusals_come_from_the_daemon_and_queue_nothing(tmp_path: Path) -> None:
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(daemon_config(tmp_path, sending={"max_parts": 2})))
    daemon = Daemon(load_config(config_path))
    await daemon.start()
    try:
        refusals = {
            ("--line", "nope", "--to", CUSTOMER, "hello"): "no line named 'nope'",
            ("--to", "12", "hello"): "12",
            ("--to", CUSTOMER, "   "): "empty",
            ("--to", CUSTOMER, "x" * 500): "part",
            ("--to", LINE_NUMBER, "to myself"): "own line 'demo'",
        }
        for argv, says in refusals.items():
            code, out, err = await _cli("send", "--config", str(config_path), *argv, cwd=tmp_path)
            assert (code, out) == (2, ""), (argv, err)
            assert says in err, (argv, err)
            assert "next start" not in err, (argv, err)
        assert daemon.store is not None
        assert await daemon.store.accounts.audit_log(limit=5, action="message.send") == []
        assert await daemon.store.outbound.queue_depth(daemon.line_ids["demo"]) == 0
    finally:
        await daemon.stop()


async def test_send_and_status_reach_the_daemon_without_pydantic_sqlalchemy_or_aiohttp(
    tmp_path: Path,
) -> None:
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(daemon_config(tmp_path)))
    daemon = Daemon(load_config(config_path))
    await daemon.start()
    try:
        for argv in (("status",), ("send", "--to", CUSTOMER, "light")):
            modules = await asyncio.to_thread(
                loaded_modules, tmp_path, *argv, "--config", str(config_path))
            assert "gateway.control" in modules
            assert heavy_in(modules, HEAVY_BESIDES_YAML) == [], argv
        assert daemon.sim is not None
        inbox = await daemon.sim.network.handset(CUSTOMER).wait_for_inbox(1, timeout_s=15)
        assert [m.text for m in inbox] == ["light"]
    finally:
        await daemon.stop()


async def test_a_daemon_that_takes_the_request_but_does_not_answer_is_not_sent_twice(
    tmp_path: Path,
) -> None:
    # The daemon may have committed the message before going quiet: the command must neither
    # queue it again itself nor pretend it failed.
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(daemon_config(tmp_path)))
    data_dir = load_config(config_path).data_dir
    data_dir.mkdir()
    requests: list[bytes] = []

    async def take_and_hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        requests.append(await reader.readuntil(b"\r\n\r\n"))
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_unix_server(take_and_hang_up, path=str(socket_path(data_dir)))
    try:
        code, out, err = await _cli(
            "send", "--config", str(config_path), "--to", CUSTOMER, "once only", cwd=tmp_path)
    finally:
        server.close()
        await server.wait_closed()
    assert code == 3  # queued or not: the caller must look, not send again
    assert out == ""
    assert "may be queued" in err
    assert [r.split(b"\r\n")[0] for r in requests] == [b"POST /outbound/messages HTTP/1.1"]
    assert not (data_dir / "gateway.db").exists()  # the command did not open the store


async def test_waiting_that_runs_out_says_so_and_exits_3(tmp_path: Path) -> None:
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(daemon_config(
        tmp_path, simulator={"control": "127.0.0.1:0", "status_report_delay_s": 600.0})))
    daemon = Daemon(load_config(config_path))
    await daemon.start()
    try:
        await daemon.supervisors["demo"].wait_for_state(lambda s: s.can_send, timeout_s=10)
        code, out, err = await _cli(
            "send", "--config", str(config_path), "--to", CUSTOMER, "--wait",
            "--wait-timeout", "1", "no report for ten minutes", cwd=tmp_path)
        assert code == 3, err
        assert "gave up waiting after 1 s" in err
        queued, last = (json.loads(line) for line in out.splitlines())
        assert last["message_id"] == queued["message_id"]
        assert last["status"] in ("queued", "sending", "sent")
    finally:
        await daemon.stop()


async def test_send_without_a_daemon_creates_no_database_where_none_was(tmp_path: Path) -> None:
    # A --config naming a place no daemon has run: nothing is queued where nobody would send it.
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(daemon_config(tmp_path)))
    code, out, err = await _cli(
        "send", "--config", str(config_path), "--to", CUSTOMER, "lost?", cwd=tmp_path)
    assert (code, out) == (2, "")
    assert "no database at" in err
    assert "nothing was queued" in err
    assert not (tmp_path / "data" / "gateway.db").exists()


async def test_a_second_daemon_on_the_same_data_dir_stops_and_leaves_the_first_alone(
    tmp_path: Path,
) -> None:
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(daemon_config(tmp_path)))
    first = Daemon(load_config(config_path))
    await first.start()
    try:
        code, _out, err = await _cli("run", "--config", str(config_path), cwd=tmp_path)
        assert code == 1
        assert "another sms-gateway (process" in err
        assert "Traceback" not in err
        second = Daemon(load_config(config_path))
        with pytest.raises(DataDirInUseError):
            await second.start()
        # The first one still answers its admins.
        code, out, err = await _cli("status", "--config", str(config_path), cwd=tmp_path)
        assert code == 0, err
        assert "1/1 lines up" in out
    finally:
        await first.stop()
