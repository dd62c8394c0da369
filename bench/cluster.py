"""`make bench-cluster`: two gateway nodes on the local PostgreSQL, recorded in docs/BENCHMARKS.md.

Every part is a real process: two `sms-gateway run` nodes, each with its own `sms-gateway sim`
process of eight modems, on one new database of the local PostgreSQL (dropped afterwards).
Figures:
- event fan-out: while texts arrive on node A's modems at 20 per second, this process commits
  an event to the log 20 times a second (as a node does: same repository, same trigger) and
  times it from the return of its commit to its arrival on a websocket held on node B (B hears
  of it by NOTIFY and reads it from the log); one clock, p50 and p99;
- inbound parts/s: both nodes' handsets send at once (one bulk request per simulator), from just
  before the requests until every message is a committed row (counted in the database);
- outbound parts/s: parts committed as `queued` while the nodes are stopped (an agent backlog,
  half on each node's lines), from the first part committed as `sending` to the last committed
  as `sent` (the database's own timestamps), after both nodes are started.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("GATEWAY_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")

from gateway.sms import encode_submit  # noqa: E402
from gateway.store import Store  # noqa: E402
from tests.cluster.harness import (  # noqa: E402
    Agent,
    Node,
    SimProcess,
    pg_database,
    sql,
    wait_for,
)

MODEMS = 8
RESULTS = ROOT / "docs" / "BENCHMARKS.md"
RESULTS_MARK = "<!-- cluster bench results: newest first -->\n"
QUIET = {"logging": {"level": "warning", "format": "json"},
         "sending": {"status_reports": False}}


async def _inbound_count(url: str) -> int:
    [row] = await sql(url, "SELECT count(*) AS n FROM messages WHERE direction = 'in'")
    return int(row["n"])


async def _timed_events(ws: aiohttp.ClientWebSocketResponse, seen: dict[int, float]) -> None:
    async for message in ws:
        if message.type == aiohttp.WSMsgType.TEXT:
            event = json.loads(message.data)
            if event["type"] == "bench.ping":
                seen.setdefault(event["seq"], time.perf_counter())


async def fan_out(url: str, b: Node, sim: SimProcess, seconds: float) -> dict[str, float]:
    """Commit-to-websocket delay across nodes, while texts flow into A at 20 a second."""
    on_b: dict[int, float] = {}
    committed: dict[int, float] = {}
    agent = await Agent(b, "supervisor", "supervisor-demo").login()
    socket = await agent.events()
    reader = asyncio.create_task(_timed_events(socket, on_b))
    store = await Store.open(url, migrate=False)
    try:
        count = int(seconds * 20)
        async with aiohttp.ClientSession() as http:
            for n in range(count):
                modem = sim.modems[n % len(sim.modems)]
                await sim.send(http, f"+1555700{n % 50:04d}", modem["msisdn"], f"fan {n}")
                event = await store.events.append("bench.ping", {"n": n})
                committed[event.seq] = time.perf_counter()  # the commit has returned
                await asyncio.sleep(1 / 20)

        async def all_seen() -> bool:
            return set(committed) <= set(on_b)

        await wait_for(all_seen, 120)
    finally:
        reader.cancel()
        await socket.close()
        await agent.close()
        await store.close()
    delays = sorted(1000 * (on_b[seq] - at) for seq, at in committed.items())
    return {"fanout_p50_ms": statistics.median(delays),
            "fanout_p99_ms": delays[min(len(delays) - 1, int(len(delays) * 0.99))],
            "fanout_samples": len(delays)}


async def inbound(url: str, sims: list[SimProcess], messages: int) -> float:
    before = await _inbound_count(url)
    began = time.perf_counter()
    async with aiohttp.ClientSession() as http:
        async def bulk(sim: SimProcess, offset: int) -> None:
            batch = [
                {"from": f"+1555600{n % 50:04d}", "to": sim.modems[n % MODEMS]["msisdn"],
                 "text": f"bulk {offset + n}"}
                for n in range(messages // len(sims))
            ]
            async with http.post(f"{sim.control}/handsets/send",
                                 json={"messages": batch}) as reply:
                reply.raise_for_status()

        await asyncio.gather(*(bulk(sim, i * messages) for i, sim in enumerate(sims)))
    target = before + messages // len(sims) * len(sims)

    async def stored() -> bool:
        return await _inbound_count(url) >= target

    await wait_for(stored, 600, 0.02)
    return (messages // len(sims) * len(sims)) / (time.perf_counter() - began)


async def queue_backlog(url: str, parts: int) -> None:
    """Messages committed as queued, spread over every line of both nodes."""
    store = await Store.open(url)
    try:
        lines = await store.lines.list_all()
        for n in range(parts):
            line = lines[n % len(lines)]
            text, to = f"backlog {n}", f"+1555500{n % 50:04d}"
            await store.outbound.queue_outbound(
                line_id=line.id, to=to, text=text, encoded=encode_submit(text, to),
            )
    finally:
        await store.close()


async def outbound_rate(url: str, parts: int) -> float:
    async def done() -> bool:
        rows = await sql(url, "SELECT count(*) AS n FROM message_parts p JOIN messages m"
                              " ON m.id = p.message_id WHERE m.direction = 'out'"
                              " AND p.status = 'sent'")
        return int(rows[0]["n"]) >= parts

    await wait_for(done, 600, 0.1)
    [row] = await sql(url, """
        SELECT extract(epoch FROM max(p.sent_at) - min(p.sending_at)) AS s
        FROM message_parts p JOIN messages m ON m.id = p.message_id
        WHERE m.direction = 'out'""")
    return parts / float(row["s"])


async def main(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="gw-bench-cluster-") as tmp_name:
        tmp = Path(tmp_name)
        async with pg_database() as url:
            sims = [await SimProcess(tmp / f"sim{i}", MODEMS).start() for i in range(2)]
            a = Node("bench-a", tmp / "a", url, modems=sims[0].modem_configs("a"), demo=True,
                     extra=QUIET)
            b = Node("bench-b", tmp / "b", url, modems=sims[1].modem_configs("b"), extra=QUIET)
            try:
                await a.start()
                await b.start()
                await _all_lines_held(url)
                results.update(await fan_out(url, b, sims[0], args.fanout_s))
                print("fan-out measured", flush=True)
                results["inbound_parts_per_s"] = await inbound(url, sims, args.messages)
                print("inbound measured", flush=True)
                await _all_routed(url)  # else the restart below would route them first
                await asyncio.gather(a.stop(), b.stop())
                await queue_backlog(url, args.messages)
                await asyncio.gather(a.start(), b.start())
                results["outbound_parts_per_s"] = await outbound_rate(url, args.messages)
            finally:
                await asyncio.gather(a.stop(), b.stop(), return_exceptions=True)
                for sim in sims:
                    await sim.stop()
    return results


async def _all_routed(url: str) -> None:
    async def routed() -> bool:
        rows = await sql(url, """
            SELECT count(*) AS n FROM messages m
            WHERE m.direction = 'in' AND m.case_id IS NULL AND NOT EXISTS (
                SELECT 1 FROM requests r WHERE r.contact_id = m.contact_id
                AND r.status = 'pending')""")
        return int(rows[0]["n"]) == 0

    await wait_for(routed, 600, 0.5)


async def _all_lines_held(url: str) -> None:
    async def held() -> bool:
        rows = await sql(url, "SELECT count(*) AS n FROM leases WHERE line_id IS NOT NULL"
                              " AND expires_at > clock_timestamp()")
        return int(rows[0]["n"]) == 2 * MODEMS

    await wait_for(held, 60)


def record(results: dict[str, Any], args: argparse.Namespace, load: str) -> str:
    import platform

    machine = (f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()},"
               f" {platform.system()} {platform.release()}")
    p99 = results["fanout_p99_ms"]
    rows = [
        ("Event fan-out p50, commit on A to websocket on B (ms)",
         f"{results['fanout_p50_ms']:.1f}", "", ""),
        ("Event fan-out p99, commit on A to websocket on B (ms)", f"{p99:.1f}", "< 100",
         "yes" if p99 < 100 else "**no**"),
        ("Inbound parts/s, 2 nodes x 8 modems, to committed rows",
         f"{results['inbound_parts_per_s']:.0f}", "", ""),
        ("Outbound parts/s, 2 nodes x 8 modems, queued to committed `sent`",
         f"{results['outbound_parts_per_s']:.0f}", "", ""),
    ]
    lines = [
        f"### {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — {machine}",
        "",
        f"`make bench-cluster` ({results['fanout_samples']} fan-out samples at 20 msg/s,"
        f" {args.messages} messages each way, PostgreSQL on this machine, each node and each"
        f" simulator a process of its own). Load average (1/5/15 min) before the run: {load}.",
        "",
        "| figure | value | target | met |",
        "|---|---|---|---|",
        *(f"| {label} | {value} | {target} | {met} |" for label, value, target, met in rows),
    ]
    return "\n".join(lines) + "\n"


def write(section: str) -> None:
    old = RESULTS.read_text()
    if RESULTS_MARK not in old:
        old = old.rstrip("\n") + "\n\n## Cluster results\n\n" + RESULTS_MARK
    head, _, body = old.partition(RESULTS_MARK)
    RESULTS.write_text(head + RESULTS_MARK + "\n" + section + "\n" + body.lstrip("\n"))


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--fanout-s", type=float, default=15.0)
    parser.add_argument("--no-record", action="store_true")
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse_args(sys.argv[1:])
    one, five, fifteen = os.getloadavg()
    figures = asyncio.run(main(arguments))
    section = record(figures, arguments, f"{one:.1f} / {five:.1f} / {fifteen:.1f}")
    print(section)
    with contextlib.suppress(KeyboardInterrupt):
        if not arguments.no_record:
            write(section)
