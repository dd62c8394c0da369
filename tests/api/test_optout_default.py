"""Without optout.confirmation_text nothing at all is sent when a customer opts out."""

from __future__ import annotations

from .conftest import Env
from .desk import answered_case, outbound_count


async def test_no_confirmation_unless_configured(env: Env) -> None:
    alice = await env.login("alice")
    case = await answered_case(env, alice)
    await env.text_in("REVOKE")
    assert (await alice.get(f"/api/cases/{case['id']}"))[1]["case"]["opted_out"] is True
    assert await outbound_count(env) == 0
    assert env.outbound.wakes == 0
