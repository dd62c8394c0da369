"""Every fault the simulator offers, inflicted on a whole daemon, over a pty and in memory:
after the fault, every inbound text is stored exactly once and every reply reached the handset
at most once."""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.config import parse_config
from gateway.daemon import Daemon
from gateway.sim.faults import apply_fault
from tests.pipeline.conftest import CUSTOMER, LINE_NUMBER, daemon_config, eventually
from tests.pipeline.test_pipeline import LONG_TEXT, messages, queue_reply, store_of

SENDERS = [f"+1555700{n:04d}" for n in range(5)]


@pytest.fixture(params=["pty", "memory"])
async def daemon(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Daemon]:
    config = daemon_config(
        tmp_path, driver={"silence_timeout_s": 2.0, "health_poll_interval_s": 0.5,
                          "command_timeout_s": 1.0, "send_timeout_s": 3.0,
                          "reconnect_backoff_initial_s": 0.1,
                          "reconnect_backoff_max_s": 0.5}
    )
    instance = Daemon(parse_config(config, base_dir=tmp_path), sim_transport=request.param)
    await instance.start()
    try:
        await instance.supervisors["demo"].wait_for_state(lambda s: s.can_send, timeout_s=10)
        yield instance
    finally:
        await instance.stop()


def fault(daemon: Daemon, kind: str, **params: object) -> None:
    assert daemon.sim is not None
    apply_fault(daemon.sim.modems["demo"], kind, params)


def texts_from_customers(daemon: Daemon, tag: str, count: int = 5) -> list[str]:
    assert daemon.sim is not None
    sent = [f"{tag} {n}" for n in range(count)]
    for n, text in enumerate(sent):
        daemon.sim.network.handset(SENDERS[n % len(SENDERS)]).send(LINE_NUMBER, text)
    return sent


async def assert_stored_exactly_once(daemon: Daemon, expected: list[str]) -> None:
    def complete(found: list[str | None]) -> bool:
        return all(text in found for text in expected)

    async def inbound_texts() -> list[str | None]:
        return [m.text for m in await messages(store_of(daemon)) if m.direction == "in"]

    await eventually(inbound_texts, complete, timeout_s=20)
    assert daemon.sim is not None
    storage = daemon.sim.modems["demo"].storage["SM"]

    async def used() -> int:
        return storage.used

    # A message leaves the modem only after it was committed: once the SIM is empty, no read of
    # these messages is left that could still commit a duplicate.
    await eventually(used, lambda count: count == 0, timeout_s=20)
    counts = Counter(await inbound_texts())
    assert all(counts[text] == 1 for text in expected), counts


async def assert_reply_received_at_most_once(daemon: Daemon) -> None:
    assert daemon.sim is not None
    handset = daemon.sim.network.handset(CUSTOMER)
    seqs = Counter(
        (p.concat.ref, p.concat.seq) if p.concat else (None, 1) for p in handset.received_parts
    )
    assert all(n == 1 for n in seqs.values()), seqs


async def test_unplug_during_a_multipart_send(daemon: Daemon) -> None:
    fault(daemon, "slow", per_response_ms=150)
    await queue_reply(daemon, LONG_TEXT, status_report=False)
    await eventually(lambda: messages(store_of(daemon)),
                     lambda ms: any(p.status == "sent" for p in ms[0].parts))
    fault(daemon, "unplug", seconds=0.5)
    fault(daemon, "slow", per_response_ms=0)
    stored = await eventually(
        lambda: messages(store_of(daemon)),
        lambda ms: all(p.status in ("sent", "unknown", "failed") for p in ms[0].parts),
        timeout_s=20,
    )
    await asyncio.sleep(0.3)
    await assert_reply_received_at_most_once(daemon)
    assert daemon.sim is not None
    received = len(daemon.sim.network.handset(CUSTOMER).received_parts)
    # Every part the modem confirmed reached the phone; an unconfirmed one was not resent.
    assert received >= sum(1 for p in stored[0].parts if p.status == "sent")
    assert {p.status for p in stored[0].parts} <= {"sent", "unknown", "failed"}
    texts = texts_from_customers(daemon, "after unplug")
    await assert_stored_exactly_once(daemon, texts)


async def test_hang_then_recovery(daemon: Daemon) -> None:
    fault(daemon, "hang", seconds=3.0)
    texts = texts_from_customers(daemon, "during hang")
    await assert_stored_exactly_once(daemon, texts)


async def test_reboot_during_an_inbound_burst(daemon: Daemon) -> None:
    texts = texts_from_customers(daemon, "before reboot")
    fault(daemon, "reboot", boot_ms=300)
    texts += texts_from_customers(daemon, "after reboot")
    await assert_stored_exactly_once(daemon, texts)


async def test_garbage_on_the_line(daemon: Daemon) -> None:
    fault(daemon, "garbage", hex="ff00fe0d0a2b434d54493a0d0a80")
    texts = texts_from_customers(daemon, "after garbage")
    fault(daemon, "garbage", length=64)
    await queue_reply(daemon, "Reply through the noise", status_report=False)
    await assert_stored_exactly_once(daemon, texts)
    assert daemon.sim is not None
    inbox = await daemon.sim.network.handset(CUSTOMER).wait_for_inbox(1, timeout_s=10)
    assert [m.text for m in inbox] == ["Reply through the noise"]


async def test_urc_inside_command_responses(daemon: Daemon) -> None:
    fault(daemon, "urc_in_reply", urc="+CMTI: \"SM\",1", times=5)
    texts = texts_from_customers(daemon, "urc inside")
    await assert_stored_exactly_once(daemon, texts)


async def test_storage_full_holds_messages_in_the_network_until_space_frees(
    daemon: Daemon,
) -> None:
    fault(daemon, "storage_full", capacity=2)
    texts = texts_from_customers(daemon, "storage full", count=8)
    await assert_stored_exactly_once(daemon, texts)


async def test_deregistration_holds_replies_until_the_network_is_back(daemon: Daemon) -> None:
    fault(daemon, "deregister", stat=0)
    await daemon.supervisors["demo"].wait_for_state(lambda s: not s.can_send, timeout_s=5)
    await queue_reply(daemon, "Waiting for the network", status_report=False)
    await asyncio.sleep(0.5)
    stored = await messages(store_of(daemon))
    assert stored[0].parts[0].status == "queued"
    fault(daemon, "register")
    assert daemon.sim is not None
    inbox = await daemon.sim.network.handset(CUSTOMER).wait_for_inbox(1, timeout_s=10)
    assert [m.text for m in inbox] == ["Waiting for the network"]
    await assert_reply_received_at_most_once(daemon)


async def test_locked_database_keeps_messages_on_the_modem(daemon: Daemon) -> None:
    path = daemon.config.sqlite_path
    if path is None:
        pytest.skip("locks a SQLite file; the PostgreSQL store is covered by the store tests")
    # Another process's transaction, taken off the event loop so the daemon keeps running.
    locker = sqlite3.connect(path, timeout=10, check_same_thread=False)
    try:
        await asyncio.to_thread(locker.execute, "BEGIN EXCLUSIVE")
        texts = texts_from_customers(daemon, "locked", count=2)
        await asyncio.sleep(1.5)
        assert daemon.sim is not None
        assert daemon.sim.modems["demo"].storage["SM"].used == 2  # nothing deleted
    finally:
        locker.rollback()
        locker.close()
    await assert_stored_exactly_once(daemon, texts)
