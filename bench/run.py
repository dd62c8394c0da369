"""`make bench`: the pipeline's speed on this machine, recorded in docs/BENCHMARKS.md.

A whole daemon runs in this process with eight simulated modems on real ptys and a SQLite
store; the simulator adds no latency unless a scenario says so. Figures:
- inbound parts/s: texts sent by handsets until every row is committed;
- outbound parts/s: queued parts until every one is `sent` (TP-MR back from the modem);
- latency at 50 messages/s: from the simulated network's delivery (which raises the modem's
  +CMTI at once) to the message.created event on the bus, p50 and p99;
- idle CPU over 30 s with eight modems connected, and resident memory;
- one modem throttled to 115,200 baud: inbound parts/s and the share of the line it uses.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from gateway.bus import BusEvent
from gateway.config import parse_config
from gateway.config_sections import LoggingConfig
from gateway.daemon import Daemon
from gateway.log import configure_logging
from gateway.sim.faults import apply_fault
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


def config(tmp: Path, modems: int) -> dict[str, Any]:
    return {
        "data_dir": str(tmp / "data"),
        "http": {"listen": "127.0.0.1:0"},
        "simulator": {"control": "127.0.0.1:0"},
        "modems": [
            {"name": f"line{i}", "number": f"+1555010{i:04d}", "simulator": True}
            for i in range(modems)
        ],
        "sending": {"status_reports": False},
        "logging": {"level": "warning"},
    }


async def started(tmp: Path, modems: int) -> Daemon:
    daemon = Daemon(parse_config(config(tmp, modems), base_dir=tmp))
    await daemon.start()
    for supervisor in daemon.supervisors.values():
        await supervisor.wait_for_state(lambda s: s.can_send, timeout_s=30)
    return daemon


async def count(daemon: Daemon, query: Any) -> int:
    assert daemon.store is not None
    async with daemon.store.db.read() as session:
        return int(await session.scalar(query) or 0)


async def wait_count(daemon: Daemon, query: Any, target: int, timeout_s: float) -> float:
    start = time.perf_counter()
    while await count(daemon, query) < target:
        if time.perf_counter() - start > timeout_s:
            raise TimeoutError(f"only {await count(daemon, query)} of {target} after {timeout_s} s")
        await asyncio.sleep(0.02)
    return time.perf_counter()


async def inbound(daemon: Daemon, messages: int) -> float:
    assert daemon.sim is not None
    numbers = [m.msisdn for m in daemon.sim.modems.values()]
    before = await count(daemon, select(func.count()).select_from(MessageRow))
    start = time.perf_counter()
    for n in range(messages):
        daemon.sim.network.handset(f"+1555900{n % 50:04d}").send(numbers[n % len(numbers)],
                                                                  f"inbound {n}")
    end = await wait_count(daemon, select(func.count()).select_from(MessageRow),
                           before + messages, timeout_s=600)
    return messages / (end - start)


async def outbound(daemon: Daemon, parts: int) -> float:
    assert daemon.store is not None
    names = list(daemon.line_ids)
    queued = []
    for n in range(parts):
        text = f"reply {n}"
        to = f"+1555901{n % 50:04d}"
        queued.append((names[n % len(names)], to, text, encode_submit(text, to)))
    sent = select(func.count()).select_from(PartRow).where(PartRow.status == "sent")
    before = await count(daemon, sent)
    start = time.perf_counter()
    for name, to, text, encoded in queued:
        await daemon.store.outbound.queue_outbound(
            line_id=daemon.line_ids[name], to=to, text=text, encoded=encoded
        )
    daemon.wake_outbound()
    end = await wait_count(daemon, sent, before + parts, timeout_s=600)
    return parts / (end - start)


async def latency(daemon: Daemon, rate: float, seconds: float) -> tuple[float, float]:
    assert daemon.sim is not None
    numbers = [m.msisdn for m in daemon.sim.modems.values()]
    sent_at: dict[str, float] = {}
    seen: dict[str, float] = {}
    total = int(rate * seconds)
    all_seen = asyncio.Event()

    def on_event(event: BusEvent) -> None:
        if event.type == "message.created" and event.data.get("direction") == "in":
            seen.setdefault(str(event.data.get("text")), time.perf_counter())
            if len(seen) >= total:
                all_seen.set()

    unsubscribe = daemon.bus.listen(on_event)
    try:
        start = time.perf_counter()
        for n in range(total):
            await asyncio.sleep(max(0.0, start + n / rate - time.perf_counter()))
            text = f"latency {n}"
            sent_at[text] = time.perf_counter()
            daemon.sim.network.handset(f"+1555902{n % 50:04d}").send(numbers[n % len(numbers)],
                                                                      text)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(60):
                await all_seen.wait()
    finally:
        unsubscribe()
    delays = sorted((seen[t] - sent_at[t]) * 1000 for t in sent_at if t in seen)
    if len(delays) < len(sent_at):
        raise RuntimeError(f"{len(sent_at) - len(delays)} messages never arrived")
    return statistics.median(delays), delays[int(len(delays) * 0.99) - 1]


async def idle_cpu(seconds: float) -> float:
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    await asyncio.sleep(seconds)
    after = resource.getrusage(resource.RUSAGE_SELF)
    used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return 100.0 * used / (time.perf_counter() - start)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def throttled(tmp: Path, messages: int, baud: int) -> tuple[float, float]:
    daemon = await started(tmp, 1)
    try:
        assert daemon.sim is not None
        modem = next(iter(daemon.sim.modems.values()))
        apply_fault(modem, "slow", {"baud": baud})
        out_bytes_before = sum(len(e.text) + 4 for e in modem.transcript if e.direction == "out")
        rate = await inbound(daemon, messages)
        out_bytes = sum(len(e.text) + 4 for e in modem.transcript if e.direction == "out")
        per_part = (out_bytes - out_bytes_before) / messages
        line_capacity = baud / 10 / per_part  # parts/s if the line carried nothing else
        return rate, rate / line_capacity
    finally:
        await daemon.stop()


async def main(args: argparse.Namespace) -> dict[str, Any]:
    configure_logging(LoggingConfig(level="error"))
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="sms-bench-") as tmp_name:
        tmp = Path(tmp_name)
        daemon = await started(tmp / "main", MODEMS)
        try:
            results["idle_cpu_percent"] = await idle_cpu(args.idle_s)
            results["rss_mb_idle"] = rss_mb()
            results["inbound_parts_per_s"] = await inbound(daemon, args.messages)
            results["outbound_parts_per_s"] = await outbound(daemon, args.messages)
            p50, p99 = await latency(daemon, 50.0, args.latency_s)
            results["latency_p50_ms"], results["latency_p99_ms"] = p50, p99
            results["rss_mb"] = rss_mb()
        finally:
            await daemon.stop()
        rate, share = await throttled(tmp / "throttled", args.throttled_messages, 115200)
        results["throttled_inbound_parts_per_s"] = rate
        results["throttled_line_share"] = share
    return results


def record(results: dict[str, Any], args: argparse.Namespace) -> str:
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
        ("Outbound parts/s (8 modems, to `sent`)", "outbound_parts_per_s", "{:.0f}"),
        ("Latency p50 at 50 msg/s (ms)", "latency_p50_ms", "{:.1f}"),
        ("Latency p99 at 50 msg/s (ms)", "latency_p99_ms", "{:.1f}"),
        ("Idle CPU, 8 modems, 30 s (%)", "idle_cpu_percent", "{:.2f}"),
        ("Resident memory after the runs (MB)", "rss_mb", "{:.0f}"),
        ("Inbound parts/s, one modem at 115,200 baud", "throttled_inbound_parts_per_s", "{:.1f}"),
        ("Share of the 115,200 baud line used", "throttled_line_share", "{:.0%}"),
    ]
    lines = [
        f"## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — {machine}",
        "",
        f"`make bench` ({args.messages} messages each way, {args.latency_s:g} s at 50 msg/s,"
        f" SQLite store).",
        "",
        "| figure | value | target | met |",
        "|---|---|---|---|",
    ]
    for label, key, fmt in rows:
        target = TARGETS.get(key, "")
        met = "" if key not in verdict else ("yes" if verdict[key] else "**no**")
        lines.append(f"| {label} | {fmt.format(results[key])} | {target} | {met} |")
    return "\n".join(lines) + "\n"


def write(section: str) -> None:
    header = (
        "# Benchmarks\n\n"
        "Produced by `make bench` (bench/run.py); each run adds a section at the top.\n"
        "What is measured and how is described in bench/run.py.\n\n"
    )
    old = RESULTS.read_text() if RESULTS.exists() else header
    body = old[len(header):] if old.startswith(header) else old
    RESULTS.write_text(header + section + "\n" + body)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--latency-s", type=float, default=10.0)
    parser.add_argument("--idle-s", type=float, default=30.0)
    parser.add_argument("--throttled-messages", type=int, default=200)
    parser.add_argument("--no-record", action="store_true")
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse_args(sys.argv[1:])
    figures = asyncio.run(main(arguments))
    section = record(figures, arguments)
    print(section)
    if not arguments.no_record:
        write(section)
