"""The request queue and the case list answer a page at a time, in a number of SQL statements
that does not grow with the list (a flood of texts once took minutes to list), on SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event

from tests.flood import flood_number, seed_waiting

from .conftest import Agent, Env


@contextmanager
def counting_statements(env: Env) -> Iterator[list[str]]:
    """Every SQL statement run meanwhile for the API, not those of the workflow's own
    background tasks (the ticker marks overdue requests every second)."""
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        try:
            task = asyncio.current_task()
        except RuntimeError:
            task = None  # a store thread's: run for a caller on the loop, the API here
        if task is None or not task.get_name().startswith("workflow-"):
            statements.append(statement)

    # Every engine: the store's sessions, its SQLite write sessions and its threads each
    # have one of their own.
    event.listen(Engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(Engine, "before_cursor_execute", count)


async def add_waiting(env: Env, count: int, *, start: int, closed_case_every: int = 0,
                      agent_id: int | None = None) -> list[int]:
    """`count` customers text in and are routed into requests; every `closed_case_every`-th
    customer had an earlier case (closed), so the queue offers to continue it."""
    ids = []
    for n in range(start, start + count):
        number = flood_number(n)
        if closed_case_every and agent_id is not None and n % closed_case_every == 0:
            contact = await env.store.contacts.ensure(number, env.clock())
            change = await env.store.cases.open_case(contact.id, env.line_id, agent_id,
                                                     env.clock())
            await env.store.cases.close_case(change.case.id, agent_id, env.clock())
        stored = await env.store_text(f"help {n}", sender=number)
        outcome = await env.workflow.router.route(stored.messages[0].id)
        assert outcome.request is not None
        ids.append(outcome.request.id)
    return ids


async def statements_for(env: Env, agent: Agent, path: str) -> tuple[int, Any]:
    await agent.get(path)  # a first call settles whatever a session does once (last_seen)
    with counting_statements(env) as statements:
        status, body = await agent.get(path)
    assert status == 200, body
    return len(statements), body


async def test_listing_takes_the_same_statements_for_10_and_500_waiting(env: Env) -> None:
    alice = await env.login("alice")
    sam = await env.login("sam", "supervisor")
    await add_waiting(env, 10, start=0, closed_case_every=3, agent_id=alice.id)
    small = {path: await statements_for(env, who, path) for path, who in [
        ("/api/requests", alice), ("/api/requests?limit=500", alice),
        ("/api/cases", sam), ("/api/cases?status=closed&limit=500", sam),
        ("/api/cases?mine=true", alice),
    ]}
    assert small["/api/requests"][1]["count"] == 10
    assert small["/api/cases"][1]["count"] == 4
    # The other 490 are written straight into the store, as routing leaves them: sending each
    # through the pipeline would take longer than the test may.
    env.clock.advance(1)
    await seed_waiting(env.store, env.line_id, 490, start=10, first_at=env.clock(),
                       closed_case_every=3, agent_id=alice.id)
    env.clock.advance(490)
    for path, (statements, _) in small.items():
        who = sam if path.startswith("/api/cases") and "mine" not in path else alice
        large, body = await statements_for(env, who, path)
        assert large == statements, (path, statements, large)
        if path == "/api/requests":
            assert (body["count"], len(body["requests"]), body["has_more"]) == (500, 100, True)
        if path == "/api/requests?limit=500":
            assert len(body["requests"]) == 500
            with_case = [r for r in body["requests"] if r["recent_case"] is not None]
            assert len(with_case) == 167
            assert all(r["recent_case"]["closed_by"] == "alice" for r in with_case)
        if path == "/api/cases?status=closed&limit=500":
            assert body["count"] == len(body["cases"]) == 167


async def test_request_pages_are_oldest_first_and_stable(env: Env) -> None:
    alice = await env.login("alice")
    first = await add_waiting(env, 4, start=100)
    # Three arrive in the same second: id breaks the tie.
    stored = [await env.store_text("same second", sender=f"+1555900000{n}") for n in range(3)]
    same = []
    for result in stored:
        outcome = await env.workflow.router.route(result.messages[0].id)
        assert outcome.request is not None
        same.append(outcome.request.id)
    env.clock.advance(1)
    last = await add_waiting(env, 2, start=200)
    everyone = first + same + last

    status, page = await alice.get("/api/requests?limit=4")
    assert status == 200
    assert [r["id"] for r in page["requests"]] == everyone[:4]
    assert (page["count"], page["has_more"], page["next_after"]) == (9, True, everyone[3])
    assert page["oldest"] == page["requests"][0]
    # The last request of the page is answered before the next page is asked for: its place
    # still holds, nothing is skipped or repeated.
    status, _ = await alice.post(f"/api/requests/{everyone[3]}/answer", {"action": "new"})
    assert status == 200
    status, second = await alice.get(f"/api/requests?limit=4&after={page['next_after']}")
    assert [r["id"] for r in second["requests"]] == everyone[4:8]
    assert second["count"] == 8
    assert second["oldest"]["id"] == everyone[0]
    assert second["has_more"] is True
    status, third = await alice.get(f"/api/requests?limit=4&after={second['next_after']}")
    assert [r["id"] for r in third["requests"]] == everyone[8:]
    assert (third["has_more"], third["next_after"]) == (False, None)

    for query in ("limit=0", "limit=501", "after=999999", "after=x", "limit=" + "9" * 5000):
        status, body = await alice.get(f"/api/requests?{query}")
        assert status == 400, (query, body)
        assert body["error"]["code"] == "invalid_input"


async def test_empty_queue_has_no_oldest(env: Env) -> None:
    alice = await env.login("alice")
    status, body = await alice.get("/api/requests")
    assert status == 200
    assert body == {"requests": [], "count": 0, "oldest": None, "has_more": False,
                    "next_after": None}


async def test_case_pages_are_newest_first_and_agents_see_their_own(env: Env) -> None:
    alice = await env.login("alice")
    bob = await env.login("bob")
    sam = await env.login("sam", "supervisor")
    mine = []
    for n, who in enumerate([alice, bob, alice, alice, bob]):
        [request_id] = await add_waiting(env, 1, start=300 + n)
        status, body = await who.post(f"/api/requests/{request_id}/answer", {"action": "new"})
        assert status == 200, body
        if who is alice:
            mine.append(body["case"]["id"])
    status, page = await sam.get("/api/cases?limit=2")
    assert status == 200
    assert page["count"] == 5
    assert page["has_more"]
    ids = [c["id"] for c in page["cases"]]
    while page["has_more"]:
        status, page = await sam.get(f"/api/cases?limit=2&before={page['next_before']}")
        ids += [c["id"] for c in page["cases"]]
    assert ids == sorted(ids, reverse=True)
    assert len(ids) == 5
    assert page["next_before"] is None
    status, own = await alice.get("/api/cases?status=open")
    assert [c["id"] for c in own["cases"]] == mine[::-1]
    assert own["count"] == 3
    assert {c["agent"] for c in own["cases"]} == {"alice"}
    assert all(c["line"]["name"] == "line-1" for c in own["cases"])
    status, body = await alice.get("/api/cases?before=424242")
    assert status == 400
    assert body["error"]["code"] == "invalid_input"
