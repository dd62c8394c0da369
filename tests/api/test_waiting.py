"""Waiting customers: each open case knows since when its customer waits for a reply, and is
flagged once past cases.reply_overdue_s."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gateway.bus import BusEvent

from .conftest import Env
from .desk import answered_case


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {"cases": {"reply_overdue_s": 60}}


async def next_waiting(env: Env, subscription: Any) -> BusEvent:
    async with asyncio.timeout(5):
        while True:
            event: BusEvent = await subscription.get()
            if event.type == "case.customer_waiting":
                return event


async def test_waiting_since_is_the_oldest_unanswered_text(env: Env) -> None:
    alice = await env.login("alice")
    case = await answered_case(env, alice, "first")
    path = f"/api/cases/{case['id']}"
    first_at = case["waiting_since"]
    assert first_at is not None
    assert case["reply_overdue"] is False
    await env.text_in("second")
    assert (await alice.get(path))[1]["case"]["waiting_since"] == first_at
    await alice.post(f"{path}/messages", {"text": "On it"})
    assert (await alice.get(path))[1]["case"]["waiting_since"] is None
    await env.text_in("thanks, and another thing")
    again = (await alice.get(path))[1]["case"]
    assert again["waiting_since"] is not None
    assert again["waiting_since"] > first_at


async def test_an_overdue_customer_is_flagged_once_to_agent_and_supervisors(env: Env) -> None:
    alice = await env.login("alice")
    sam = await env.login("sam", "supervisor")
    case = await answered_case(env, alice)
    subscription = env.bus.subscribe()
    try:
        env.clock.advance(61)
        event = await next_waiting(env, subscription)
        assert event.data["case_id"] == case["id"]
        assert event.data["agent_id"] == alice.id
        assert event.data["waiting_s"] >= 60
        assert await env.workflow.waiting.check() == []  # once per wait
    finally:
        subscription.close()
    body = (await sam.get("/api/cases?status=open"))[1]
    assert [c["reply_overdue"] for c in body["cases"]] == [True]
    assert env.outbound.wakes == 0  # flagged, never answered automatically
