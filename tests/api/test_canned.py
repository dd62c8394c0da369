"""Canned replies: shared ones kept by supervisors, personal ones by their agent; none is sent
by itself."""

from __future__ import annotations

from .conftest import Env
from .desk import answered_case, outbound_count


async def test_agent_keeps_personal_replies_and_sees_shared_ones(env: Env) -> None:
    alice = await env.login("alice")
    sam = await env.login("sam", "supervisor")
    status, shared = await sam.post("/api/canned", {
        "title": "Greeting", "text": "Hello {contact}, this is {agent}.", "shared": True,
        "shortcut": "/hi"})
    assert status == 201, shared
    assert shared["canned"]["shared"] is True
    assert shared["canned"]["shortcut"] == "hi"
    status, mine = await alice.post("/api/canned", {"title": "Bye", "text": "Goodbye!"})
    assert status == 201, mine
    assert mine["canned"]["shared"] is False
    status, listed = await alice.get("/api/canned")
    assert status == 200
    assert [(c["title"], c["shared"]) for c in listed["canned"]] == [
        ("Bye", False), ("Greeting", True)]
    # Sam sees the shared one, not Alice's own.
    assert [c["title"] for c in (await sam.get("/api/canned"))[1]["canned"]] == ["Greeting"]


async def test_only_supervisors_make_or_change_shared_replies(env: Env) -> None:
    alice = await env.login("alice")
    sam = await env.login("sam", "supervisor")
    status, body = await alice.post("/api/canned", {"title": "x", "text": "y", "shared": True})
    assert status == 403
    shared = (await sam.post("/api/canned", {"title": "Hours", "text": "9-5", "shared": True})
              )[1]["canned"]
    response = await alice.client.put(f"/api/canned/{shared['id']}",
                                      json={"title": "Hours", "text": "always"},
                                      headers={"X-CSRF-Token": alice.csrf})
    assert response.status == 403
    response = await sam.client.put(f"/api/canned/{shared['id']}",
                                    json={"title": "Hours", "text": "8-6", "shortcut": "hours"},
                                    headers={"X-CSRF-Token": sam.csrf})
    assert response.status == 200
    body = await response.json()
    assert (body["canned"]["text"], body["canned"]["shortcut"]) == ("8-6", "hours")
    response = await sam.client.delete(f"/api/canned/{shared['id']}",
                                       headers={"X-CSRF-Token": sam.csrf})
    assert response.status == 200
    assert (await alice.get("/api/canned"))[1]["canned"] == []


async def test_another_agents_personal_reply_is_not_found(env: Env) -> None:
    alice = await env.login("alice")
    bob = await env.login("bob")
    mine = (await alice.post("/api/canned", {"title": "t", "text": "x"}))[1]["canned"]
    response = await bob.client.delete(f"/api/canned/{mine['id']}",
                                       headers={"X-CSRF-Token": bob.csrf})
    assert response.status == 404
    response = await bob.client.put(f"/api/canned/{mine['id']}", json={"title": "a", "text": "b"},
                                    headers={"X-CSRF-Token": bob.csrf})
    assert response.status == 404
    assert len((await alice.get("/api/canned"))[1]["canned"]) == 1


async def test_canned_replies_send_nothing_by_themselves(env: Env) -> None:
    alice = await env.login("alice")
    await answered_case(env, alice)
    await alice.post("/api/canned", {"title": "t", "text": "Hello"})
    assert await outbound_count(env) == 0
    assert env.outbound.wakes == 0


async def test_bad_canned_input_is_refused(env: Env) -> None:
    alice = await env.login("alice")
    for body in ({"title": " ", "text": "x"},
                 {"title": "t", "text": "x", "shortcut": "two words"},
                 {"title": "t"}):
        status, answer = await alice.post("/api/canned", body)
        assert status == 400, body
        assert answer["error"]["code"] == "invalid_input"
