"""Failures a cluster survives, with real node processes: a node SIGKILLed in the middle of an
inbound burst, and every database connection cut during traffic."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.cluster.harness import Agent, Node, SimProcess, pg_database, sql, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(300)]

B_LINE = "+15550400001"
CUSTOMERS = [f"+1555900{n:04d}" for n in range(20)]
FAST_RETRY = {"inbound": {"db_retry_interval_s": 0.5}}


async def _inbound(url: str) -> tuple[int, int]:
    [row] = await sql(url, "SELECT count(*) AS n, count(DISTINCT text) AS d FROM messages"
                           " WHERE direction = 'in'")
    return int(row["n"]), int(row["d"])


class Console:
    """A websocket held on a node, collecting every event it is sent."""

    def __init__(self, agent: Agent) -> None:
        self.agent = agent
        self.events: list[dict[str, Any]] = []
        self._task: asyncio.Task[None] | None = None
        self.ws: aiohttp.ClientWebSocketResponse | None = None

    async def open(self, since: int | None = None) -> Console:
        self.ws = await self.agent.events(since)
        self._task = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        assert self.ws is not None
        async for message in self.ws:
            if message.type == aiohttp.WSMsgType.TEXT:
                self.events.append(json.loads(message.data))

    def of_type(self, type_: str) -> list[dict[str, Any]]:
        return [event for event in self.events if event["type"] == type_]

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


async def test_node_killed_during_inbound_burst_stores_every_text_once(tmp_path: Path) -> None:
    burst = 300
    async with pg_database() as url:
        sim = await SimProcess(tmp_path / "sim", 2).start()
        a_modems = sim.modem_configs("a")
        b = Node("site-b", tmp_path / "b", url, demo=True,
                 modems=[{"name": "b1", "number": B_LINE, "simulator": True}])
        a = Node("site-a", tmp_path / "a", url, modems=a_modems, extra=FAST_RETRY)
        console: Console | None = None
        agent: Agent | None = None
        try:
            await b.start()
            await a.start()
            agent = await Agent(b, "supervisor", "supervisor-demo").login()
            console = await Console(agent).open()
            async with aiohttp.ClientSession() as http:
                for n in range(burst):
                    modem = sim.modems[n % 2]
                    await sim.send(http, CUSTOMERS[n % len(CUSTOMERS)], modem["msisdn"],
                                   f"burst text {n:04d}")
                    if n == burst // 3:
                        await wait_for(lambda: _at_least(url, 20))
                        await a.kill()
                        killed_at = (await _inbound(url))[0]
                        assert 0 < killed_at < burst

                        def a_lines_down() -> bool:
                            down = {e["data"]["name"] for e in console.of_type("line.status")
                                    if e["data"].get("status") == "down"}
                            return {"a1", "a2"} <= down

                        await wait_for(_sync(a_lines_down), 30)
                        # A reply to one of A's customers waits for A's line meanwhile.
                        status, body = await agent.post(
                            "/api/cases", {"phone": CUSTOMERS[0], "line": "a1"}
                        )
                        assert status in (200, 201), body
                        case_id = body["case"]["id"]
                        status, body = await agent.post(
                            f"/api/cases/{case_id}/messages", {"text": "we are on it"}
                        )
                        assert status in (200, 201), body
                        await asyncio.sleep(1.0)
                        parts = await sql(url, "SELECT p.status, m.text, p.line_id FROM"
                                          " message_parts p JOIN messages m ON m.id = p.message_id"
                                          " WHERE m.direction = 'out'")
                        assert [p["status"] for p in parts] == ["queued"], parts
                        await a.start()

            async def all_stored() -> bool:
                return (await _inbound(url))[0] >= burst

            await wait_for(all_stored, 120)
            await asyncio.sleep(1.0)  # anything arriving late would be a duplicate
            assert await _inbound(url) == (burst, burst)

            async def reply_sent() -> bool:
                rows = await sql(url, "SELECT p.status FROM message_parts p JOIN messages m"
                                      " ON m.id = p.message_id WHERE m.direction = 'out'")
                return [r["status"] for r in rows] in (["sent"], ["delivered"])

            await wait_for(reply_sent, 60)
        finally:
            if console is not None:
                await console.close()
            if agent is not None:
                await agent.close()
            await asyncio.gather(a.stop(), b.stop())
            await sim.stop()


async def test_database_connections_cut_during_traffic_lose_and_double_nothing(
    tmp_path: Path,
) -> None:
    burst = 200
    async with pg_database() as url:
        database = url.rsplit("/", 1)[1]
        sim = await SimProcess(tmp_path / "sim", 2).start()
        b = Node("site-b", tmp_path / "b", url, demo=True, extra=FAST_RETRY,
                 modems=[{"name": "b1", "number": B_LINE, "simulator": True}])
        a = Node("site-a", tmp_path / "a", url, modems=sim.modem_configs("a"), extra=FAST_RETRY)
        console: Console | None = None
        agent: Agent | None = None
        try:
            await b.start()
            await a.start()
            agent = await Agent(b, "supervisor", "supervisor-demo").login()
            console = await Console(agent).open()
            cuts = 0
            async with aiohttp.ClientSession() as http:
                for n in range(burst):
                    modem = sim.modems[n % 2]
                    await sim.send(http, CUSTOMERS[n % len(CUSTOMERS)], modem["msisdn"],
                                   f"cut text {n:04d}")
                    if n in (burst // 4, burst // 2):
                        rows = await sql(url, """
                            SELECT pg_terminate_backend(pid) AS cut FROM pg_stat_activity
                            WHERE datname = $1 AND pid <> pg_backend_pid()""", database)
                        cuts += sum(1 for row in rows if row["cut"])
            assert cuts >= 4  # every node's LISTEN connection and pool were cut, twice

            async def all_stored() -> bool:
                return (await _inbound(url))[0] >= burst

            await wait_for(all_stored, 120)
            await asyncio.sleep(1.0)
            assert await _inbound(url) == (burst, burst)

            # The console on B saw every text that came in on A, once each, in log order.
            ids = {r["id"] for r in await sql(url, "SELECT id FROM messages"
                                                   " WHERE direction = 'in'")}

            def console_has_all() -> bool:
                seen = [e["data"]["id"] for e in console.of_type("message.created")
                        if e["data"].get("direction") == "in"]
                return set(seen) == ids

            await wait_for(_sync(console_has_all), 60)
            seen = [e["data"]["id"] for e in console.of_type("message.created")
                    if e["data"].get("direction") == "in"]
            assert len(seen) == len(ids)
            seqs = [e["seq"] for e in console.events if e["type"] not in ("ready", "pong")]
            assert seqs == sorted(set(seqs))
            # A console reconnecting with ?since= gets the same stream from the log.
            again = await Console(agent).open(since=0)
            await wait_for(_sync(lambda: len(again.of_type("message.created")) >= len(seen)))
            replayed = [e["seq"] for e in again.events if e["type"] not in ("ready", "pong")]
            assert [seq for seq in replayed if seqs[0] <= seq <= seqs[-1]] == seqs
            await again.close()
        finally:
            if console is not None:
                await console.close()
            if agent is not None:
                await agent.close()
            await asyncio.gather(a.stop(), b.stop())
            await sim.stop()


async def _at_least(url: str, count: int) -> bool:
    return (await _inbound(url))[0] >= count


def _sync(check: Any) -> Any:
    async def wrapped() -> Any:
        return check()

    return wrapped
