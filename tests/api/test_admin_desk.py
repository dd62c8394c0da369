"""What the admin screens read: the audit log narrowed by user, case and action; opt-outs."""

from __future__ import annotations

from .conftest import CUSTOMER, Env
from .desk import answered_case


async def test_audit_log_narrowed_by_user_case_and_action(env: Env) -> None:
    alice = await env.login("alice")
    bob = await env.login("bob")
    root = await env.login("root", "admin")
    case = await answered_case(env, alice)
    await alice.post(f"/api/cases/{case['id']}/notes", {"text": "n"})
    await answered_case(env, bob, sender="+15557654321")
    status, body = await root.get("/api/audit", params={"user": "alice"})
    assert status == 200
    assert {e["user_id"] for e in body["entries"]} == {alice.id}
    body = (await root.get("/api/audit", params={"case": str(case["id"])}))[1]
    assert {e["target"] for e in body["entries"]} == {f"case:{case['id']}"}
    body = (await root.get("/api/audit", params={"action": "case.note"}))[1]
    assert [e["action"] for e in body["entries"]] == ["case.note"]
    assert (await root.get("/api/audit", params={"user": "nobody"}))[1]["entries"] == []


async def test_optouts_are_listed_for_admins(env: Env) -> None:
    alice = await env.login("alice")
    root = await env.login("root", "admin")
    await answered_case(env, alice)
    await env.text_in("STOP")
    status, body = await root.get("/api/optouts")
    assert status == 200
    assert [o["phone"] for o in body["optouts"]] == [CUSTOMER]
    assert (await alice.get("/api/optouts"))[0] == 403


async def test_bad_filters_and_nul_characters_are_refused(env: Env) -> None:
    root = await env.login("root", "admin")
    assert (await root.get("/api/audit", params={"user": "x" * 101}))[0] == 400
    assert (await root.get("/api/audit", params={"action": "a\x00b"}))[0] == 400
    assert (await root.get("/api/search", params={"q": "ab\x00"}))[0] == 400
    assert (await root.get("/api/contacts/%2B1555%00"))[0] == 404
