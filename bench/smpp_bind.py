"""`python bench/smpp_bind.py`: SMPP messages per second on one bind, recorded in docs/BENCHMARKS.md.

The simulated SMSC runs in a process of its own (`python -m gateway sim --modems 0 --smsc`), as
an operator's SMSC is a machine of its own; the daemon runs in this process with one SMPP line
bound as a transceiver to it over loopback TCP (no throughput limit, window 10, receipts off so
that each direction is measured alone). SQLite store, `synchronous = FULL`. Figures:
- inbound messages/s: single-part texts that handsets send to the short code in one bulk
  control-API request, from just before it until every message.created event (each message
  committed before its deliver_sm_resp); the rows are then counted;
- outbound messages/s: single-part replies committed as `queued` first (a backlog), from waking
  the sender until every part is committed `sent` with the SMSC's message id.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from run import count, cpu_s, inbound_created, until_events  # bench/run.py
from sqlalchemy import func, select

from gateway.bus import BusEvent
from gateway.config import parse_config
from gateway.config_sections import LoggingConfig
from gateway.daemon import Daemon
from gateway.log import configure_logging
from gateway.sms import encode_submit
from gateway.store.models import MessageRow, PartRow

RESULTS = Path(__file__).resolve().parent.parent / "docs" / "BENCHMARKS.md"
SECTION = "## SMPP: one bind"


async def _inbound(daemon: Daemon, control: str, number: str, messages: int) -> dict[str, float]:
    batch = [{"from": f"+1555902{n % 100:04d}", "to": number, "text": f"inbound {n} help"}
             for n in range(messages)]
    rows = select(func.count()).select_from(MessageRow).where(MessageRow.direction == "in")
    before = await count(daemon, rows)
    cpu = cpu_s()
    async with aiohttp.ClientSession(control) as http:

        async def start() -> None:
            async with http.post("/handsets/send", json={"messages": batch}) as response:
                response.raise_for_status()

        began, end = await until_events(daemon, inbound_created, messages, 300, start)
    cpu = cpu_s() - cpu
    stored = await count(daemon, rows) - before
    if stored != messages:
        raise RuntimeError(f"{stored} inbound rows stored for {messages} messages")
    return {"rate": messages / (end - began), "cpu_ms": 1000 * cpu / messages}


async def _outbound(daemon: Daemon, parts: int) -> dict[str, float]:
    store = daemon.store
    assert store is not None
    line_id = next(iter(daemon.line_ids.values()))
    queued: set[int] = set()
    sent: set[int] = set()
    done = asyncio.Event()
    last = 0.0

    def on_event(event: BusEvent) -> None:
        nonlocal last
        if event.type == "message.status" and event.data.get("status") == "sent":
            sent.add(int(event.data["part_id"]))
            last = time.perf_counter()
            if queued and queued <= sent:
                done.set()

    for sender in daemon.senders.values():
        sender.stop()  # the backlog is built first, then the sender is started and timed
    unsubscribe = daemon.bus.listen(on_event)
    try:
        for n in range(parts):
            text, to = f"reply {n}", f"+1555903{n % 50:04d}"
            result = await store.outbound.queue_outbound(
                line_id=line_id, to=to, text=text, encoded=encode_submit(text, to),
            )
            queued.update(part.id for part in result.message.parts)
        sender = next(iter(daemon.senders.values()))
        sender._stopping = False  # noqa: SLF001 (restarted for the timed run)
        cpu = cpu_s()
        began = time.perf_counter()
        task = asyncio.get_running_loop().create_task(sender.run())
        async with asyncio.timeout(600):
            await done.wait()
        cpu = cpu_s() - cpu
        sender.stop()
        await task
    finally:
        unsubscribe()
    rows = select(func.count()).select_from(PartRow).where(
        PartRow.status == "sent", PartRow.id.in_(queued), PartRow.smsc_message_id.is_not(None)
    )
    if await count(daemon, rows) != len(queued):
        raise RuntimeError("not every part was committed as sent with its message id")
    return {"rate": len(queued) / (last - began), "cpu_ms": 1000 * cpu / len(queued)}


async def main(record: bool, messages: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="smpp-bench-") as tmp:
        directory = Path(tmp)
        sim = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "gateway", "sim", "--modems", "0", "--smsc", "127.0.0.1:0",
            "--dir", str(directory / "dev"), stdout=asyncio.subprocess.PIPE,
        )
        try:
            assert sim.stdout is not None
            described = json.loads(await sim.stdout.readline())
            smsc = described["smsc"]
            config = parse_config({
                "data_dir": str(directory / "data"), "http": {"listen": "127.0.0.1:0"},
                "modems": [], "logging": {"level": "warning"},
                "smpp": [{"name": "shortcode", "number": smsc["number"], "host": smsc["host"],
                          "port": smsc["port"], "system_id": smsc["system_id"],
                          "password": smsc["password"], "throughput_per_s": 0,
                          "registered_delivery": False}],
            })
            configure_logging(LoggingConfig(level="warning"))
            daemon = Daemon(config)
            await daemon.start()
            try:
                board = daemon.board
                assert board is not None
                async with asyncio.timeout(20):
                    while not board.can_send("shortcode"):
                        await asyncio.sleep(0.05)
                load_before = os.getloadavg()[0]
                inbound = await _inbound(daemon, described["control"], smsc["number"], messages)
                outbound = await _outbound(daemon, messages)
                load_after = os.getloadavg()[0]
            finally:
                await daemon.stop()
        finally:
            sim.terminate()
            await sim.wait()
    results = {"inbound_per_s": inbound["rate"], "inbound_cpu_ms": inbound["cpu_ms"],
               "outbound_per_s": outbound["rate"], "outbound_cpu_ms": outbound["cpu_ms"],
               "messages": messages, "load": (load_before, load_after)}
    text = _section(results)
    print(text)
    if record:
        _record(text)
    return results


def _section(results: dict[str, Any]) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = results["load"]
    return "\n".join([
        f"### SMPP run {when}",
        "",
        f"{platform.node()}, {os.cpu_count()} CPUs, load {load[0]:.1f} before and "
        f"{load[1]:.1f} after; {results['messages']} messages each way, one transceiver bind.",
        "",
        "| figure | result | daemon CPU per message (ms) |",
        "|---|---|---|",
        f"| Inbound messages/s (deliver_sm to committed, then deliver_sm_resp) | "
        f"{results['inbound_per_s']:.0f} | {results['inbound_cpu_ms']:.2f} |",
        f"| Outbound messages/s (queued to submit_sm_resp committed) | "
        f"{results['outbound_per_s']:.0f} | {results['outbound_cpu_ms']:.2f} |",
        "",
    ])


def _record(section: str) -> None:
    text = RESULTS.read_text()
    if SECTION not in text:
        text = text.rstrip("\n") + f"\n\n{SECTION}\n\n"
        text += (Path(__file__).read_text().split('"""')[1].split("\n\n", 1)[1].strip()
                 + "\n\n")
    RESULTS.write_text(text.rstrip("\n") + "\n\n" + section)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-record", action="store_true", help="only print the figures")
    parser.add_argument("--messages", type=int, default=2000)
    arguments = parser.parse_args()
    asyncio.run(main(not arguments.no_record, arguments.messages))
