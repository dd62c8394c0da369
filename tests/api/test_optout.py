"""Opt-out done right: a confirmation only when an admin configured one, sent once; a hint for
an opt-out word inside a sentence; START opts in again."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from gateway.store.models import MessageRow

from .conftest import Env
from .desk import answered_case, outbound_count

CONFIRMATION = "You will get no more texts from us. Reply START to opt in again."


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {"optout": {"confirmation_text": CONFIRMATION}}


async def outbound_texts(env: Env) -> list[str | None]:
    async with env.store.db.read() as session:
        rows = await session.scalars(select(MessageRow.text).where(MessageRow.direction == "out"))
        return list(rows)


async def test_the_configured_confirmation_is_sent_once(env: Env) -> None:
    alice = await env.login("alice")
    case = await answered_case(env, alice)
    await env.text_in("STOP")
    assert (await alice.get(f"/api/cases/{case['id']}"))[1]["case"]["opted_out"] is True
    assert await outbound_texts(env) == [CONFIRMATION]
    assert env.outbound.wakes == 1
    await env.text_in("stop!")  # already opted out: nothing more
    assert await outbound_count(env) == 1
    entries = await env.store.accounts.audit_log(limit=50)
    assert "optout.confirmation" in [e.action for e in entries]
    await env.text_in("START")
    assert (await alice.get(f"/api/cases/{case['id']}"))[1]["case"]["opted_out"] is False
    await env.text_in("STOP")  # a new opt-out is confirmed again
    assert await outbound_count(env) == 2


async def test_stop_in_a_sentence_is_a_hint_not_an_opt_out(env: Env) -> None:
    alice = await env.login("alice")
    case = await answered_case(env, alice)
    await env.text_in("stop, thank you")
    body = (await alice.get(f"/api/cases/{case['id']}/messages"))[1]
    assert [m.get("opt_out_hint", False) for m in body["messages"]] == [False, True]
    assert (await alice.get(f"/api/cases/{case['id']}"))[1]["case"]["opted_out"] is False
    assert await outbound_count(env) == 0
