"""`make bench`: the pipeline's speed on this machine, recorded in docs/BENCHMARKS.md.

The simulated network runs in a process of its own (`python -m gateway sim`), as real modems are
devices of their own; the daemon runs in this process, so that its event bus can be observed, and
opens the simulator's eight ptys as serial devices. SQLite store, no artificial latency. Figures:
- inbound parts/s: from just before the control API call that makes the handsets send (one bulk
  request) until every message is committed (its message.created event published; the row count
  is then checked in the store);
- outbound parts/s: parts already committed as `queued` (an agent backlog), from waking the
  senders until every part is committed as `sent` with its TP-MR (checked in the store);
  the rate at which queue_outbound commits new messages is shown on its own row;
- latency at 50 messages/s: from just before the control API call that makes one handset send
  (POST /handsets/{msisdn}/send, one request per text) to the message.created event on the
  daemon's bus, p50 and p99. It includes the HTTP request, the simulated network and modem,
  the pty, the +CMTI, AT+CMGL, the commit and the publish;
- idle CPU of the daemon's process over 30 s with eight modems connected (the simulator's own
  process is shown beside it), and the daemon process's resident memory;
- daemon CPU time per part for each direction: what the figures would be on an idle core;
- one modem throttled to 115,200 baud: inbound parts/s and the share of the line's
  modem-to-host capacity used (bytes counted from the raw AT traffic logger).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import func, select

from gateway.bus import BusEvent
from gateway.config import parse_config
from gateway.config_sections import LoggingConfig
from gateway.daemon import Daemon
from gateway.log import configure_logging
from gateway.sms import encode_submit
from gateway.store.models import MessageRow, PartRow

MODEMS = 8
RESULTS = Path(__file__).resolve().parent.parent / "docs" / "BENCHMARKS.md"
TARGETS = {
    "inbound_parts_per_s": ">= 1000",
    "outbound_parts_per_s": ">= 1000",
    "latency_p99_ms": "< 20",
    "idle_cpu_percent": "< 1",
    "rss_mb": "< 100",
}
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Sim:
    """A `python -m gateway sim` process: its control URL and modems."""

    process: asyncio.subprocess.Process
    control: str
    modems: list[dict[str, str]]

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


@contextlib.asynccontextmanager
async def simulator(directory: Path, modems: int) -> AsyncIterator[Sim]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway", "sim", "--modems", str(modems), "--dir", str(directory),
        "--control", "127.0.0.1:0", stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        async with asyncio.timeout(30):
            described = json.loads(await process.stdout.readline())
        yield Sim(process, described["control"], described["modems"])
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                async with asyncio.timeout(10):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()


def config(tmp: Path, sim: Sim) -> dict[str, Any]:
    return {
        "data_dir": str(tmp / "data"),
        "http": {"listen": "127.0.0.1:0"},
        "modems": [
            {"name": f"line{i}", "number": modem["msisdn"], "device": modem["device"]}
            for i, modem in enumerate(sim.modems)
        ],
        "sending": {"status_reports": False},
        "logging": {"level": "warning"},
    }


async def started(tmp: Path, sim: Sim) -> Daemon:
    parsed = parse_config(config(tmp, sim), base_dir=tmp)
    # As an installation does (`sms-gateway db upgrade`), so the daemon starts on a store at
    # the current schema, as it does on every start but the first after an upgrade.
    parsed.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway", "db", "upgrade", "--database", parsed.database_url,
        stdout=asyncio.subprocess.DEVNULL,
    )
    if await upgrade.wait() != 0:
        raise RuntimeError("sms-gateway db upgrade failed")
    daemon = Daemon(parsed)
    await daemon.start()
    for supervisor in daemon.supervisors.values():
        await supervisor.wait_for_state(lambda s: s.can_send, timeout_s=30)
    return daemon


async def count(daemon: Daemon, query: Any) -> int:
    assert daemon.store is not None
    async with daemon.store.db.read() as session:
        return int(await session.scalar(query) or 0)


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def until_events(
    daemon: Daemon, wanted: Callable[[BusEvent], bool], target: int, timeout_s: float,
    start: Callable[[], Any],
) -> tuple[float, float]:
    """Run `start`, then wait for `target` bus events that `wanted` accepts; returns the
    perf_counter before `start` and at the last event."""
    seen = 0
    last = 0.0
    done = asyncio.Event()

    def on_event(event: BusEvent) -> None:
        nonlocal seen, last
        if wanted(event):
            seen += 1
            last = time.perf_counter()
            if seen >= target:
                done.set()

    unsubscribe = daemon.bus.listen(on_event)
    try:
        began = time.perf_counter()
        await start()
        try:
            async with asyncio.timeout(timeout_s):
                await done.wait()
        except TimeoutError:
            raise TimeoutError(f"only {seen} of {target} after {timeout_s} s") from None
    finally:
        unsubscribe()
    return began, last


def inbound_created(event: BusEvent) -> bool:
    return event.type == "message.created" and event.data.get("direction") == "in"


ROUTING_EVENTS = frozenset({"request.created", "request.updated", "case.updated"})


async def inbound(
    daemon: Daemon, sim: Sim, http: aiohttp.ClientSession, messages: int, tag: str
) -> dict[str, float]:
    """Inbound parts/s to committed rows; then, separately, how fast the router files those
    messages into requests and cases (it runs behind the pipeline, in the same process)."""
    numbers = [m["msisdn"] for m in sim.modems]
    batch = [
        {"from": f"+1555900{n % 50:04d}", "to": numbers[n % len(numbers)], "text": f"{tag} {n}"}
        for n in range(messages)
    ]
    rows = select(func.count()).select_from(MessageRow).where(MessageRow.direction == "in")
    before = await count(daemon, rows)
    created: set[int] = set()
    routed: set[int] = set()
    routed_all = asyncio.Event()
    last_routed = 0.0

    def on_event(event: BusEvent) -> None:
        nonlocal last_routed
        if inbound_created(event) and str(event.data.get("text", "")).startswith(tag):
            created.add(int(event.data["id"]))
        elif event.type in ROUTING_EVENTS and event.data.get("message_id") is not None:
            routed.add(int(event.data["message_id"]))
            last_routed = time.perf_counter()
        if len(created) == messages and created <= routed:
            routed_all.set()

    async def send() -> None:
        async with http.post(f"{sim.control}/handsets/send", json={"messages": batch}) as reply:
            reply.raise_for_status()

    unsubscribe = daemon.bus.listen(on_event)
    try:
        cpu, sim_cpu = cpu_s(), sim.cpu_s()
        began, end = await until_events(daemon, inbound_created, messages, 600, send)
        cpu, sim_cpu = cpu_s() - cpu, sim.cpu_s() - sim_cpu
        async with asyncio.timeout(600):
            await routed_all.wait()
    finally:
        unsubscribe()
    stored = await count(daemon, rows) - before
    if stored != messages:
        raise RuntimeError(f"{stored} inbound rows stored for {messages} messages")
    return {"rate": messages / (end - began), "cpu_ms": 1000 * cpu / messages,
            "sim_cpu_ms": 1000 * sim_cpu / messages,
            "routed_rate": messages / (last_routed - began)}


async def outbound(daemon: Daemon, sim: Sim, parts: int) -> dict[str, float]:
    store = daemon.store
    assert store is not None
    names = list(daemon.line_ids)
    queued: set[int] = set()
    sent: set[int] = set()
    done = asyncio.Event()
    last = 0.0

    def on_event(event: BusEvent) -> None:
        nonlocal last
        if event.type == "message.status" and event.data.get("status") == "sent":
            sent.add(int(event.data["part_id"]))
            last = time.perf_counter()
            if len(sent) >= len(queued) and queued <= sent:
                done.set()

    unsubscribe = daemon.bus.listen(on_event)
    try:
        began = time.perf_counter()
        for n in range(parts):
            text, to = f"reply {n}", f"+1555901{n % 50:04d}"
            result = await store.outbound.queue_outbound(
                line_id=daemon.line_ids[names[n % len(names)]], to=to, text=text,
                encoded=encode_submit(text, to),
            )
            queued.update(part.id for part in result.message.parts)
        queue_rate = parts / (time.perf_counter() - began)
        # A sender may have looked at its queue meanwhile (a line state change wakes it): the
        # parts it sent before the wake are left out of the rate.
        early = len(sent & queued)
        cpu, sim_cpu = cpu_s(), sim.cpu_s()
        began = time.perf_counter()
        daemon.wake_outbound()
        async with asyncio.timeout(600):
            await done.wait()
        cpu, sim_cpu = cpu_s() - cpu, sim.cpu_s() - sim_cpu
    finally:
        unsubscribe()
    rows = select(func.count()).select_from(PartRow).where(
        PartRow.status == "sent", PartRow.id.in_(queued)
    )
    stored = await count(daemon, rows)
    if stored != len(queued):
        raise RuntimeError(f"{stored} parts stored as sent for {len(queued)} queued")
    measured = len(queued) - early
    return {"rate": measured / (last - began), "queue_rate": queue_rate,
            "cpu_ms": 1000 * cpu / measured, "sim_cpu_ms": 1000 * sim_cpu / measured}


async def latency(
    daemon: Daemon, sim: Sim, http: aiohttp.ClientSession, rate: float, seconds: float
) -> tuple[float, float]:
    numbers = [m["msisdn"] for m in sim.modems]
    sent_at: dict[str, float] = {}
    seen: dict[str, float] = {}
    total = int(rate * seconds)
    all_seen = asyncio.Event()

    def on_event(event: BusEvent) -> None:
        if inbound_created(event):
            seen.setdefault(str(event.data.get("text")), time.perf_counter())
            if len(seen) >= total:
                all_seen.set()

    async def send(n: int) -> None:
        text = f"latency {n}"
        url = f"{sim.control}/handsets/+1555902{n % 50:04d}/send"
        sent_at[text] = time.perf_counter()
        async with http.post(url, json={"to": numbers[n % len(numbers)], "text": text}) as reply:
            reply.raise_for_status()

    unsubscribe = daemon.bus.listen(on_event)
    try:
        start = time.perf_counter()
        requests = []
        for n in range(total):
            await asyncio.sleep(max(0.0, start + n / rate - time.perf_counter()))
            requests.append(asyncio.get_running_loop().create_task(send(n)))
        await asyncio.gather(*requests)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(60):
                await all_seen.wait()
    finally:
        unsubscribe()
    delays = sorted((seen[t] - sent_at[t]) * 1000 for t in sent_at if t in seen)
    if len(delays) < len(sent_at):
        raise RuntimeError(f"{len(sent_at) - len(delays)} messages never arrived")
    return statistics.median(delays), delays[max(0, int(len(delays) * 0.99) - 1)]


async def idle_cpu(sim: Sim, seconds: float) -> tuple[float, float]:
    before, sim_before = cpu_s(), sim.cpu_s()
    start = time.perf_counter()
    await asyncio.sleep(seconds)
    elapsed = time.perf_counter() - start
    return (100.0 * (cpu_s() - before) / elapsed,
            100.0 * (sim.cpu_s() - sim_before) / elapsed)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class ByteCounter(logging.Handler):
    """Counts the bytes the daemon read from modems, from the raw AT traffic logger."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.received = 0

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args
        if isinstance(args, tuple) and len(args) == 2 and "<-" in str(record.msg):
            data = args[1]
            if isinstance(data, bytes | bytearray):
                self.received += len(data)


async def throttled(tmp: Path, messages: int, baud: int) -> tuple[float, float]:
    async with simulator(tmp / "sim", 1) as sim, aiohttp.ClientSession() as http:
        daemon = await started(tmp, sim)
        at_log = logging.getLogger("gateway.at")
        counter = ByteCounter()
        try:
            name = sim.modems[0]["name"]
            fault = {"kind": "slow", "baud": baud}
            async with http.post(f"{sim.control}/modems/{name}/faults", json=fault) as reply:
                reply.raise_for_status()
            at_log.addHandler(counter)
            at_log.setLevel(logging.DEBUG)
            at_log.propagate = False
            began = time.perf_counter()
            rate = (await inbound(daemon, sim, http, messages, "throttled"))["rate"]
            elapsed = time.perf_counter() - began
            share = counter.received / elapsed / (baud / 10)
            return rate, share
        finally:
            at_log.removeHandler(counter)
            at_log.setLevel(logging.NOTSET)
            at_log.propagate = True
            await daemon.stop()


async def main(args: argparse.Namespace) -> dict[str, Any]:
    configure_logging(LoggingConfig(level="error"))
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="sms-bench-") as tmp_name:
        tmp = Path(tmp_name) / "main"
        async with simulator(tmp / "sim", MODEMS) as sim, aiohttp.ClientSession() as http:
            daemon = await started(tmp, sim)
            try:
                await asyncio.sleep(2)  # let start-up writes and the first sweeps settle
                idle, sim_idle = await idle_cpu(sim, args.idle_s)
                results["idle_cpu_percent"], results["sim_idle_cpu_percent"] = idle, sim_idle
                results["rss_mb_idle"] = rss_mb()
                received = await inbound(daemon, sim, http, args.messages, "inbound")
                results["inbound_parts_per_s"] = received["rate"]
                results["inbound_cpu_ms"] = received["cpu_ms"]
                results["inbound_sim_cpu_ms"] = received["sim_cpu_ms"]
                results["routed_per_s"] = received["routed_rate"]
                sent = await outbound(daemon, sim, args.messages)
                results["outbound_parts_per_s"] = sent["rate"]
                results["queue_per_s"] = sent["queue_rate"]
                results["outbound_cpu_ms"] = sent["cpu_ms"]
                results["outbound_sim_cpu_ms"] = sent["sim_cpu_ms"]
                p50, p99 = await latency(daemon, sim, http, 50.0, args.latency_s)
                results["latency_p50_ms"], results["latency_p99_ms"] = p50, p99
                results["rss_mb"] = rss_mb()
            finally:
                await daemon.stop()
        rate, share = await throttled(Path(tmp_name) / "throttled", args.throttled_messages,
                                      115200)
        results["throttled_inbound_parts_per_s"] = rate
        results["throttled_line_share"] = share
    return results


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f} / {five:.1f} / {fifteen:.1f}"


def record(results: dict[str, Any], args: argparse.Namespace, load: str, load_after: str) -> str:
    machine = (f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()},"
               f" {platform.system()} {platform.release()}")
    verdict = {
        "inbound_parts_per_s": results["inbound_parts_per_s"] >= 1000,
        "outbound_parts_per_s": results["outbound_parts_per_s"] >= 1000,
        "latency_p99_ms": results["latency_p99_ms"] < 20,
        "idle_cpu_percent": results["idle_cpu_percent"] < 1,
        "rss_mb": results["rss_mb"] < 100,
    }
    rows = [
        ("Inbound parts/s (8 modems, to committed rows)", "inbound_parts_per_s", "{:.0f}"),
        ("Outbound parts/s (8 modems, queued to committed `sent`)", "outbound_parts_per_s",
         "{:.0f}"),
        ("Latency p50 at 50 msg/s, control API call to bus event (ms)", "latency_p50_ms",
         "{:.1f}"),
        ("Latency p99 at 50 msg/s, control API call to bus event (ms)", "latency_p99_ms",
         "{:.1f}"),
        ("Idle CPU of the daemon, 8 modems, 30 s (%)", "idle_cpu_percent", "{:.2f}"),
        ("Resident memory of the daemon after the runs (MB)", "rss_mb", "{:.0f}"),
        ("Inbound messages routed to requests/cases per s (same burst)", "routed_per_s",
         "{:.0f}"),
        ("Daemon CPU per inbound part (ms)", "inbound_cpu_ms", "{:.2f}"),
        ("Daemon CPU per outbound part (ms)", "outbound_cpu_ms", "{:.2f}"),
        ("Simulator CPU per inbound / outbound part (ms)", "sim_cpu", "{}"),
        ("Idle CPU of the simulator process (%)", "sim_idle_cpu_percent", "{:.2f}"),
        ("Messages queued/s (queue_outbound, one caller)", "queue_per_s", "{:.0f}"),
        ("Inbound parts/s, one modem at 115,200 baud", "throttled_inbound_parts_per_s", "{:.1f}"),
        ("Share of the 115,200 baud line (modem to host) used", "throttled_line_share",
         "{:.0%}"),
    ]
    results = dict(results)
    results["sim_cpu"] = (f"{results['inbound_sim_cpu_ms']:.2f} /"
                          f" {results['outbound_sim_cpu_ms']:.2f}")
    lines = [
        f"## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — {machine}",
        "",
        f"`make bench` ({args.messages} messages each way, {args.latency_s:g} s at 50 msg/s,"
        f" SQLite store, simulator in its own process). Load average (1/5/15 min) before the"
        f" run: {load}; after: {load_after}.",
        "",
        "| figure | value | target | met |",
        "|---|---|---|---|",
    ]
    for label, key, fmt in rows:
        target = TARGETS.get(key, "")
        met = "" if key not in verdict else ("yes" if verdict[key] else "**no**")
        lines.append(f"| {label} | {fmt.format(results[key])} | {target} | {met} |")
    return "\n".join(lines) + "\n"


RESULTS_MARK = "<!-- bench results: newest first -->\n"


def write(section: str) -> None:
    """Insert the new section after the marker; the text above it is kept as written."""
    old = RESULTS.read_text() if RESULTS.exists() else "# Benchmarks\n\n" + RESULTS_MARK
    if RESULTS_MARK not in old:
        old = old.rstrip("\n") + "\n\n" + RESULTS_MARK
    head, _, body = old.partition(RESULTS_MARK)
    RESULTS.write_text(head + RESULTS_MARK + "\n" + section + "\n" + body.lstrip("\n"))


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--latency-s", type=float, default=10.0)
    parser.add_argument("--idle-s", type=float, default=30.0)
    parser.add_argument("--throttled-messages", type=int, default=200)
    parser.add_argument("--no-record", action="store_true")
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse_args(sys.argv[1:])
    load_before = load_average()
    figures = asyncio.run(main(arguments))
    section = record(figures, arguments, load_before, load_average())
    print(section)
    if not arguments.no_record:
        write(section)
