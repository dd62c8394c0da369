"""Wrap-up: closing a case with a configured code and a summary; a required code is enforced."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Env
from .desk import answered_case

CODES = ["resolved", "callback", "wrong number"]


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {"cases": {"wrap_up_codes": CODES, "require_wrap_up": True}}


async def test_close_without_a_required_code_is_refused(env: Env) -> None:
    alice = await env.login("alice")
    case = await answered_case(env, alice)
    status, body = await alice.post(f"/api/cases/{case['id']}/close")
    assert status == 400
    assert body["error"]["code"] == "wrap_up_required"
    assert (await alice.get(f"/api/cases/{case['id']}"))[1]["case"]["status"] == "open"


async def test_unknown_code_is_refused(env: Env) -> None:
    alice = await env.login("alice")
    case = await answered_case(env, alice)
    status, body = await alice.post(f"/api/cases/{case['id']}/close", {"wrap_up": "bored"})
    assert status == 400
    assert body["error"]["code"] == "unknown_wrap_up"


async def test_close_with_code_and_summary_is_kept_on_the_case_and_audited(env: Env) -> None:
    alice = await env.login("alice")
    case = await answered_case(env, alice)
    status, body = await alice.post(f"/api/cases/{case['id']}/close",
                                    {"wrap_up": "callback", "summary": " Call after 5pm "})
    assert status == 200, body
    assert body["case"]["status"] == "closed"
    assert (body["case"]["wrap_up"], body["case"]["summary"]) == ("callback", "Call after 5pm")
    again = (await alice.get(f"/api/cases/{case['id']}"))[1]["case"]
    assert again["wrap_up"] == "callback"
    [entry] = [e for e in await env.store.accounts.audit_log(limit=100, target=f"case:{case['id']}")
               if e.action == "case.close"]
    assert entry.details == {"wrap_up": "callback"}


async def test_the_codes_are_served_for_the_close_dialog(env: Env) -> None:
    alice = await env.login("alice")
    status, body = await alice.get("/api/wrap-up-codes")
    assert status == 200
    assert body == {"codes": CODES, "required": True}
