"""Helpers for the desk tests: a customer's text answered into a case."""

from __future__ import annotations

from typing import Any

from .conftest import CUSTOMER, Agent, Env


async def answered_case(env: Env, agent: Agent, text: str = "hi",
                        sender: str = CUSTOMER) -> dict[str, Any]:
    """The customer texts, `agent` answers: the open case."""
    await env.text_in(text, sender=sender)
    requests = (await agent.get("/api/requests"))[1]["requests"]
    [request] = [r for r in requests if r["phone"] == sender]
    status, body = await agent.post(f"/api/requests/{request['id']}/answer", {"action": "new"})
    assert status == 200, body
    case: dict[str, Any] = body["case"]
    return case


async def outbound_count(env: Env) -> int:
    """Outbound messages in the store: what would reach a customer."""
    from sqlalchemy import func, select

    from gateway.store.models import MessageRow

    async with env.store.db.read() as session:
        count = await session.scalar(
            select(func.count()).select_from(MessageRow).where(MessageRow.direction == "out"))
        return int(count or 0)
