"""The live floor and its figures: the queue, agents' presence and load, and today's numbers."""

from __future__ import annotations

from .conftest import Env
from .desk import answered_case

OTHER = "+15557654321"


async def test_stats_count_requests_answers_and_times(env: Env) -> None:
    alice = await env.login("alice")
    sam = await env.login("sam", "supervisor")
    env.clock.advance(5)
    case = await answered_case(env, alice, "hi")
    env.clock.advance(30)
    await alice.post(f"/api/cases/{case['id']}/messages", {"text": "hello"})
    await env.text_in("still there?", sender=OTHER)
    status, body = await sam.get("/api/stats")
    assert status == 200, body
    stats = body["stats"]
    assert (stats["requests"], stats["answered"], stats["waiting"], stats["abandoned"]) == (
        2, 1, 1, 0)
    assert stats["median_answer_s"] == 0
    assert stats["median_first_reply_s"] >= 30
    assert stats["cases_opened"] == 1
    assert (await alice.get("/api/stats"))[0] == 403
    assert (await sam.get("/api/stats", params={"since": "yesterday"}))[0] == 400
    assert (await sam.get("/api/stats", params={"since": "2020-01-01T00:00:00"}))[0] == 400


async def test_floor_shows_queue_agents_and_waiting_customers(env: Env) -> None:
    alice = await env.login("alice")
    sam = await env.login("sam", "supervisor")
    case = await answered_case(env, alice, "hi")
    await env.text_in("anyone?", sender=OTHER)
    env.clock.advance(20)
    status, body = await sam.get("/api/floor")
    assert status == 200, body
    floor = body["floor"]
    assert floor["queue"]["count"] == 1
    assert floor["queue"]["longest_wait_s"] >= 20
    assert (floor["open_cases"], floor["customers_waiting"]) == (1, 1)
    agents = {a["username"]: a for a in floor["agents"]}
    assert agents["alice"]["presence"]["open_cases"] == 1
    assert agents["alice"]["oldest_waiting_since"] == case["waiting_since"]
    assert agents["sam"]["oldest_waiting_since"] is None
