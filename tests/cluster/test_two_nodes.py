"""Two nodes on one PostgreSQL: an agent on one node answers a text that came in on the other's
modem, and the reply goes out through that modem; the answer race has one winner across nodes."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.cluster.harness import (
    Agent,
    Node,
    handset_inbox,
    handset_send,
    pg_database,
    sql,
    wait_for,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(240)]

EAST, WEST = "+15550100001", "+15550100002"
CUSTOMER = "+15557770001"


def sim_modem(name: str, number: str) -> dict[str, Any]:
    return {"name": name, "number": number, "simulator": True}


async def _next_event(ws: aiohttp.ClientWebSocketResponse, type_: str) -> dict[str, Any]:
    async with asyncio.timeout(30):
        while True:
            message = await ws.receive()
            assert message.type == aiohttp.WSMsgType.TEXT, message
            event: dict[str, Any] = json.loads(message.data)
            if event["type"] == type_:
                return event


async def test_agent_on_b_answers_a_text_from_a_and_the_reply_leaves_through_a(
    tmp_path: Path,
) -> None:
    async with pg_database() as url:
        a = Node("site-a", tmp_path / "a", url, modems=[sim_modem("east", EAST)], demo=True)
        b = Node("site-b", tmp_path / "b", url, modems=[sim_modem("west", WEST)])
        agents: list[Agent] = []
        try:
            await a.start()
            supervisor_a = await Agent(a, "supervisor", "supervisor-demo").login()
            agents.append(supervisor_a)

            async def east_ready_on_a() -> bool:
                lines = (await supervisor_a.get("/api/lines"))["lines"]
                return any(x["name"] == "east" and x["can_send"] for x in lines)

            # East's state is logged before B starts: B must learn it from the log.
            assert await wait_for(east_ready_on_a)
            await b.start()
            supervisor_b = await Agent(b, "supervisor", "supervisor-demo").login()
            agent_b = await Agent(b, "agent", "agent-demo").login()
            agents += [supervisor_b, agent_b]

            async def both_nodes_own_their_line() -> dict[str, Any] | None:
                cluster = await supervisor_b.get("/api/cluster")
                nodes = {n["name"]: n for n in cluster["nodes"]}
                ok = nodes.get("site-a", {}).get("lines") == ["east"] and (
                    nodes.get("site-b", {}).get("lines") == ["west"]
                )
                return cluster if ok else None

            cluster = await wait_for(both_nodes_own_their_line)
            assert all(node["last_seen"] for node in cluster["nodes"])
            lines = {line["name"]: line for line in (await agent_b.get("/api/lines"))["lines"]}
            assert lines["east"]["node"] == "site-a"
            assert lines["west"]["node"] == "site-b"
            assert (lines["east"]["can_send"], lines["east"]["registration"]) == (True, "home")
            status = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "gateway", "status", "--config", str(a.config_path),
                stdout=asyncio.subprocess.PIPE,
            )
            shown = (await status.communicate())[0].decode()
            assert "this is node site-a" in shown, shown
            assert "cluster lines: 2/2 held by a live node" in shown, shown
            assert re.search(r"node site-b\s+up .*lines: west", shown), shown

            ws = await agent_b.events()
            await _next_event(ws, "ready")
            await handset_send(a, CUSTOMER, EAST, "my heating is broken")
            created = await _next_event(ws, "request.created")
            request_id = created["data"]["request_id"]

            # Two agents on two nodes answer at once: one case, one 409.
            answers = await asyncio.gather(
                agent_b.post(f"/api/requests/{request_id}/answer", {}),
                supervisor_a.post(f"/api/requests/{request_id}/answer", {}),
            )
            statuses = sorted(status for status, _ in answers)
            assert statuses == [200, 409], answers
            winner = agent_b if answers[0][0] == 200 else supervisor_a
            case_id = next(body["case"]["id"] for status, body in answers if status == 200)

            sent, body = await winner.post(
                f"/api/cases/{case_id}/messages", {"text": "an engineer is on the way"}
            )
            assert sent in (200, 201), body

            async def reply_arrived() -> list[dict[str, Any]]:
                inbox = await handset_inbox(a.sim_url, CUSTOMER)
                return [m for m in inbox if "engineer" in json.dumps(m)]

            assert await wait_for(reply_arrived, 60)

            async def sent_lines() -> list[str]:
                rows = await sql(url, """
                    SELECT l.name FROM messages m JOIN lines l ON l.id = m.line_id
                    WHERE m.direction = 'out' AND m.status IN ('sent', 'delivered')""")
                return [row["name"] for row in rows]

            assert await wait_for(sent_lines) == ["east"]
            assert await handset_inbox(b.sim_url, CUSTOMER) == []
            await ws.close()
        finally:
            for agent in agents:
                await agent.close()
            await b.stop()
            await a.stop()


async def test_an_agent_working_on_one_node_is_online_for_the_other(tmp_path: Path) -> None:
    # A text arriving on A's line for a case held by an agent whose console is open on B must
    # not ring everyone as if that agent were away; once the console closes, it must.
    routing = {"overdue_after_s": 3600, "offline_after_s": 1.0}
    async with pg_database() as url:
        a = Node("site-a", tmp_path / "a", url, modems=[sim_modem("east", EAST)], demo=True,
                 extra={"routing": routing})
        b = Node("site-b", tmp_path / "b", url, modems=[sim_modem("west", WEST)],
                 extra={"routing": routing})
        agents: list[Agent] = []
        try:
            await a.start()
            await b.start()
            agent_b = await Agent(b, "agent", "agent-demo").login()
            supervisor_a = await Agent(a, "supervisor", "supervisor-demo").login()
            agents += [agent_b, supervisor_a]
            ws = await agent_b.events()
            await _next_event(ws, "ready")

            async def agent_online_on_a() -> bool:
                listed = (await supervisor_a.get("/api/agents"))["agents"]
                return any(x["username"] == "agent" and x["online"] for x in listed)

            assert await wait_for(agent_online_on_a)
            await handset_send(a, CUSTOMER, EAST, "my heating is broken")
            created = await _next_event(ws, "request.created")
            status, body = await agent_b.post(
                f"/api/requests/{created['data']['request_id']}/answer", {})
            assert status == 200, body
            case_id = body["case"]["id"]

            async def texts_in_case(count: int) -> bool:
                page = await agent_b.get(f"/api/cases/{case_id}/messages")
                return len([m for m in page["messages"] if m["direction"] == "in"]) == count

            await asyncio.sleep(2.0)  # longer than offline_after_s since A started
            await handset_send(a, CUSTOMER, EAST, "still no heat")
            assert await wait_for(lambda: texts_in_case(2))
            assert (await supervisor_a.get("/api/requests"))["requests"] == []

            await ws.close()

            async def agent_offline_on_a() -> bool:
                return not await agent_online_on_a()

            assert await wait_for(agent_offline_on_a)
            await asyncio.sleep(2.0)  # longer than offline_after_s since the console closed
            await handset_send(a, CUSTOMER, EAST, "hello? anyone?")

            async def rang() -> list[dict[str, Any]]:
                requests: list[dict[str, Any]] = (
                    await supervisor_a.get("/api/requests"))["requests"]
                return requests

            [request] = await wait_for(rang)
            assert request["case_id"] == case_id
        finally:
            for agent in agents:
                await agent.close()
            await asyncio.gather(a.stop(), b.stop())
