"""Outgoing webhooks against a real HTTP receiver on 127.0.0.1: signed, retried, durable."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from gateway.api.app import create_app
from gateway.service.secrets import TEST_HASHING_COST, Passwords
from gateway.service.workflow import Workflow
from gateway.store.webhook_deliveries import WebhookDelivery

from .conftest import CUSTOMER, Env
from .webhook_receiver import BACKOFF_S, Receiver, verify, webhook_config


@pytest.fixture
def config_overrides(receiver: Receiver) -> dict[str, Any]:
    return webhook_config(receiver)


async def _deliveries(env: Env) -> list[WebhookDelivery]:
    return await env.store.webhook_deliveries.list_deliveries()


async def _until_recorded(env: Env, attempts: int) -> list[WebhookDelivery]:
    """The clock stands still: wait until the outcomes of `attempts` attempts are stored."""
    async with asyncio.timeout(10):
        while True:
            deliveries = await _deliveries(env)
            if sum(d.attempts for d in deliveries) >= attempts:
                return deliveries
            await asyncio.sleep(0.01)


async def _until_settled(env: Env, count: int) -> list[WebhookDelivery]:
    """Advance the clock past each backoff until `count` deliveries are no longer pending."""
    async with asyncio.timeout(10):
        while True:
            deliveries = await _deliveries(env)
            if len(deliveries) == count and all(d.status != "pending" for d in deliveries):
                return deliveries
            env.clock.advance(BACKOFF_S * 4)
            await asyncio.sleep(0.02)


async def test_request_and_message_are_posted_signed_and_a_failed_attempt_is_retried(
    env: Env, receiver: Receiver
) -> None:
    message_id = await env.text_in("Hello, I need help 😀")
    # message.created and request.created are sent; the receiver fails the first call.
    first = await _until_recorded(env, 2)
    assert sorted(d.status for d in first) == ["delivered", "pending"]
    failed = next(d for d in first if d.status == "pending")
    assert failed.attempts == 1
    assert failed.last_error == "HTTP 500"
    settled = await _until_settled(env, 2)
    assert [d.status for d in settled] == ["delivered", "delivered"]
    assert {d.id: d.attempts for d in settled}[failed.id] == 2
    assert sorted(receiver.answered) == [204, 204, 500]
    bodies = [verify(call) for call in receiver.calls]
    assert bodies[0] == bodies[2]  # a retry sends the same body
    by_type = {body["type"]: body for body in bodies}
    assert set(by_type) == {"message.created", "request.created"}
    message = by_type["message.created"]
    assert message["data"]["id"] == message_id
    assert message["data"]["text"] == "Hello, I need help 😀"
    assert message["data"]["phone"] == CUSTOMER
    assert message["data"]["direction"] == "in"
    request = by_type["request.created"]
    assert request["data"]["phone"] == CUSTOMER
    assert request["data"]["message_id"] == message_id
    assert request["seq"] > message["seq"]
    logged = {event.seq: event for event in await env.store.events.since(0, 100)}
    for body in bodies:
        assert logged[body["seq"]].type == body["type"]
        assert logged[body["seq"]].data == body["data"]
        assert body["created_at"] == logged[body["seq"]].created_at.isoformat()
    assert {call.headers["X-Gateway-Event"] for call in receiver.calls} == set(by_type)


async def test_webhooks_never_hold_up_the_workflow(env: Env, receiver: Receiver) -> None:
    receiver.hold = asyncio.Event()
    receiver.fail_first = 0
    agent = await env.login("alice")
    await env.text_in("anyone there?")
    await receiver.wait_for_calls(1)  # the receiver is sitting on a delivery
    [request] = (await agent.get("/api/requests"))[1]["requests"]
    status, _ = await agent.post(f"/api/requests/{request['id']}/answer", {"action": "new"})
    assert status == 200
    receiver.hold.set()
    settled = await _until_settled(env, 2)
    assert all(d.status == "delivered" for d in settled)


async def test_a_restart_keeps_pending_deliveries_and_sends_what_was_logged_meanwhile(
    env: Env,
    receiver: Receiver,
    aiohttp_client: Callable[..., Awaitable[TestClient[Any, Any]]],
) -> None:
    receiver.fail_first = 10  # the receiver is down until further notice
    await env.text_in("before the restart")
    await _until_recorded(env, 2)
    await env.client.close()  # the daemon stops
    await env.workflow.stop()
    assert sorted(d.status for d in await _deliveries(env)) == ["pending", "pending"]
    # While it is down a text is stored; routing it at start-up logs its request.created.
    await env.store_text("while the API was down", sender="+15557654321")
    receiver.fail_first = 0
    workflow = Workflow.from_config(env.config, store=env.store, bus=env.bus,
                                    wake_outbound=env.outbound.wake, clock=env.clock,
                                    passwords=Passwords(TEST_HASHING_COST))
    await workflow.start()
    try:
        await aiohttp_client(create_app(workflow=workflow, config=env.config))
        settled = await _until_settled(env, 4)
    finally:
        await workflow.stop()
    assert [d.status for d in settled] == ["delivered"] * 4
    after = [verify(call) for call in receiver.calls[2:]]
    assert {body["data"].get("text") for body in after} >= {"before the restart",
                                                             "while the API was down"}
    assert sorted(body["type"] for body in after) == [
        "message.created", "message.created", "request.created", "request.created"]
    seqs = [body["seq"] for body in after]
    assert len(seqs) == len(set(seqs)) == 4  # each pending or missed event once, no repeats


async def test_a_delivery_is_given_up_after_its_retry_limit(env: Env, receiver: Receiver) -> None:
    receiver.fail_first = 1000
    await env.text_in("nobody listens")
    given_up = await _until_settled(env, 2)
    retry_limit = env.config.webhooks[0].retry_limit
    assert [d.status for d in given_up] == ["failed", "failed"]
    assert [d.attempts for d in given_up] == [retry_limit + 1] * 2
    assert {d.last_error for d in given_up} == {"HTTP 500"}
    assert len(receiver.calls) == 2 * (retry_limit + 1)
    assert len({call.body for call in receiver.calls}) == 2  # each retry sends the same body
