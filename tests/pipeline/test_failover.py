"""Failover: with `sending.failover: other_line`, replies waiting on a line that cannot send go
out on a line that can; with the default `wait`, they wait for their own line."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from gateway.config import parse_config
from gateway.daemon import Daemon
from gateway.sim.faults import apply_fault
from gateway.sms import encode_submit
from tests.pipeline.conftest import CUSTOMER, LINE_NUMBER, daemon_config

BACKUP_NUMBER = "+15550199"


async def _two_lines(tmp_path: Path, failover: str) -> Daemon:
    config = daemon_config(
        tmp_path,
        modems=[
            {"name": "demo", "number": LINE_NUMBER, "simulator": True},
            {"name": "backup", "number": BACKUP_NUMBER, "simulator": True},
        ],
        sending={"failover": failover, "failover_after_s": 0.5},
    )
    daemon = Daemon(parse_config(config, base_dir=tmp_path))
    await daemon.start()
    for supervisor in daemon.supervisors.values():
        await supervisor.wait_for_state(lambda s: s.can_send, timeout_s=10)
    return daemon


async def _reply_on_demo_while_it_is_down(daemon: Daemon) -> None:
    assert daemon.sim is not None
    assert daemon.store is not None
    apply_fault(daemon.sim.modems["demo"], "deregister", {"stat": 0})
    await daemon.supervisors["demo"].wait_for_state(lambda s: not s.can_send, timeout_s=5)
    encoded = encode_submit("We are on our way", CUSTOMER)
    await daemon.store.outbound.queue_outbound(
        line_id=daemon.line_ids["demo"], to=CUSTOMER, text="We are on our way", encoded=encoded
    )
    daemon.wake_outbound()


async def test_reply_moves_to_a_line_that_can_send(tmp_path: Path) -> None:
    daemon = await _two_lines(tmp_path, "other_line")
    try:
        await _reply_on_demo_while_it_is_down(daemon)
        assert daemon.sim is not None
        inbox = await daemon.sim.network.handset(CUSTOMER).wait_for_inbox(1, timeout_s=10)
        assert [(m.from_, m.text) for m in inbox] == [(BACKUP_NUMBER, "We are on our way")]
    finally:
        await daemon.stop()


async def test_reply_waits_for_its_own_line_by_default(tmp_path: Path) -> None:
    daemon = await _two_lines(tmp_path, "wait")
    try:
        await _reply_on_demo_while_it_is_down(daemon)
        assert daemon.sim is not None
        handset = daemon.sim.network.handset(CUSTOMER)
        with pytest.raises(TimeoutError):
            await handset.wait_for_inbox(1, timeout_s=1.5)
        apply_fault(daemon.sim.modems["demo"], "register", {})
        inbox = await handset.wait_for_inbox(1, timeout_s=10)
        assert [(m.from_, m.text) for m in inbox] == [(LINE_NUMBER, "We are on our way")]
        await asyncio.sleep(0.2)
        assert len(handset.inbox) == 1
    finally:
        await daemon.stop()
