"""Line leases and once-per-cluster work with real nodes: a SIM claimed by two nodes is sent on
by one only, and three nodes starting together on an empty database migrate it once."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.cluster.harness import Agent, Node, handset_inbox, pg_database, sql, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(240)]

SHARED = "+15550200001"
CUSTOMERS = [f"+1555888{n:04d}" for n in range(10)]


def shared_modem() -> dict[str, Any]:
    # The same number in both nodes' simulators: the same SIM (ICCID) seen by two hosts.
    return {"name": "shared", "number": SHARED, "simulator": True}


async def _sent_through(node: Node) -> int:
    total = 0
    for phone in CUSTOMERS:
        total += len(await handset_inbox(node.sim_url, phone))
    return total


async def test_a_line_claimed_by_two_nodes_is_sent_on_by_one_only(tmp_path: Path) -> None:
    async with pg_database() as url:
        a = Node("node-a", tmp_path / "a", url, modems=[shared_modem()], demo=True)
        b = Node("node-b", tmp_path / "b", url, modems=[shared_modem()])
        agent: Agent | None = None
        try:
            await asyncio.gather(a.start(), b.start())
            agent = await Agent(a, "agent", "agent-demo").login()

            async def holder() -> str | None:
                rows = await sql(url, "SELECT node FROM leases WHERE name LIKE 'line:%'")
                return rows[0]["node"] if rows else None

            owner = await wait_for(holder)
            for phone in CUSTOMERS:
                status, body = await agent.post("/api/cases", {"phone": phone, "line": "shared"})
                assert status in (200, 201), body
                case_id = body["case"]["id"]
                for n in range(3):
                    status, body = await agent.post(
                        f"/api/cases/{case_id}/messages", {"text": f"reply {n} to {phone}"}
                    )
                    assert status in (200, 201), body

            async def all_sent() -> bool:
                rows = await sql(url, "SELECT status FROM message_parts")
                done = [r for r in rows if r["status"] in ("sent", "delivered")]
                return len(rows) == len(done) == 3 * len(CUSTOMERS)

            await wait_for(all_sent, 90)
            by_node = {a.name: await _sent_through(a), b.name: await _sent_through(b)}
            assert by_node[owner] == 3 * len(CUSTOMERS)
            assert sum(by_node.values()) == 3 * len(CUSTOMERS), by_node
            assert await holder() == owner
        finally:
            if agent is not None:
                await agent.close()
            await asyncio.gather(a.stop(), b.stop())


async def test_three_nodes_starting_at_once_on_an_empty_database_migrate_it_once(
    tmp_path: Path,
) -> None:
    async with pg_database() as url:
        nodes = [
            Node(f"n{i}", tmp_path / f"n{i}", url,
                 modems=[{"name": f"l{i}", "number": f"+1555030000{i}", "simulator": True}])
            for i in range(3)
        ]
        try:
            await asyncio.gather(*(node.start(wait=False) for node in nodes))
            await asyncio.gather(*(node.wait_healthy() for node in nodes))

            async def three_alive_with_lines() -> bool:
                rows = await sql(url, """
                    SELECT n.name, count(l.name) AS lines FROM cluster_nodes n
                    LEFT JOIN leases l ON l.node = n.name GROUP BY n.name""")
                return sorted((r["name"], r["lines"]) for r in rows) == [
                    ("n0", 2), ("n1", 1), ("n2", 1)
                ] or (sorted(r["name"] for r in rows) == ["n0", "n1", "n2"] and all(
                    r["lines"] >= 1 for r in rows
                ))

            await wait_for(three_alive_with_lines)
            migrated = [node.name for node in nodes for _ in node.log_events("store.migrated")]
            assert len(migrated) == 1, migrated
            [version] = await sql(url, "SELECT version_num FROM alembic_version")
            assert version["version_num"]
            duties = await sql(url, "SELECT node FROM leases WHERE name = 'duties'")
            assert len(duties) == 1
        finally:
            await asyncio.gather(*(node.stop() for node in nodes))


async def test_replies_on_a_dead_nodes_line_fail_over_to_a_line_of_another_node(
    tmp_path: Path,
) -> None:
    failover = {"sending": {"failover": "other_line", "failover_after_s": 1.0}}
    async with pg_database() as url:
        a = Node("node-a", tmp_path / "a", url, demo=True, extra=failover,
                 modems=[{"name": "east", "number": "+15550600001", "simulator": True}])
        b = Node("node-b", tmp_path / "b", url, extra=failover,
                 modems=[{"name": "west", "number": "+15550600002", "simulator": True}])
        agent: Agent | None = None
        try:
            await a.start()
            await b.start()
            agent = await Agent(b, "agent", "agent-demo").login()
            await a.kill()

            async def east_down() -> bool:
                rows = await sql(url, "SELECT status FROM lines WHERE name = 'east'")
                return bool(rows[0]["status"] == "down")

            await wait_for(east_down)
            # B's journal tells the outage: the node gone, and its line with it.

            async def outage_logged() -> bool:
                return bool(b.log_events("cluster.node_down")) and bool(
                    b.log_events("cluster.line_lapsed"))

            await wait_for(outage_logged)
            assert [e["node"] for e in b.log_events("cluster.node_down")] == ["node-a"]
            assert [e["line"] for e in b.log_events("cluster.line_lapsed")] == ["east"]
            status, body = await agent.post("/api/cases", {"phone": CUSTOMERS[0], "line": "east"})
            assert status in (200, 201), body
            status, body = await agent.post(
                f"/api/cases/{body['case']['id']}/messages", {"text": "sent the other way"}
            )
            assert status in (200, 201), body

            async def delivered_through_b() -> bool:
                return any("other way" in str(m)
                           for m in await handset_inbox(b.sim_url, CUSTOMERS[0]))

            await wait_for(delivered_through_b, 60)
            [row] = await sql(url, "SELECT l.name FROM messages m JOIN lines l"
                                   " ON l.id = m.line_id WHERE m.direction = 'out'")
            assert row["name"] == "west"
        finally:
            if agent is not None:
                await agent.close()
            await asyncio.gather(a.stop(), b.stop())
