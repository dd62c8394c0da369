"""A webhook receiver on 127.0.0.1 for tests: records every call and checks its signature
the way a receiver should."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from gateway.service.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER

SECRET = "webhook-secret-0123456789"
BACKOFF_S = 0.2


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)  # type: ignore[no-any-return]


@dataclass
class Receiver:
    """A webhook receiver: answers 500 to the first `fail_first` calls, then 204."""

    url: str = ""
    fail_first: int = 1
    hold: asyncio.Event | None = None  # when set up, calls wait for it before answering
    calls: list[Received] = field(default_factory=list)
    answered: list[int] = field(default_factory=list)
    arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def handle(self, request: web.Request) -> web.Response:
        received = Received(dict(request.headers), await request.read())
        async with self.arrived:
            self.calls.append(received)
            number = len(self.calls)  # calls may overlap: decide by order of arrival
            self.arrived.notify_all()
        if self.hold is not None:
            await self.hold.wait()
        status = 500 if number <= self.fail_first else 204
        self.answered.append(status)
        return web.Response(status=status)

    async def wait_for_calls(self, count: int) -> None:
        async with asyncio.timeout(10), self.arrived:
            await self.arrived.wait_for(lambda: len(self.calls) >= count)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    hooks = Receiver()
    app = web.Application()
    app.router.add_post("/hook", hooks.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    hooks.url = str(server.make_url("/hook"))
    try:
        yield hooks
    finally:
        if hooks.hold is not None:
            hooks.hold.set()
        await server.close()


def webhook_config(receiver: Receiver) -> dict[str, Any]:
    """The `webhooks` configuration that sends to `receiver`."""
    return {"webhooks": [{
        "url": receiver.url, "secret": SECRET, "timeout_s": 5.0, "retry_limit": 3,
        "retry_backoff_s": BACKOFF_S,
    }]}


def verify(call: Received) -> dict[str, Any]:
    """The receiver's side of the contract: check the signature, then trust the body."""
    timestamp = call.headers[TIMESTAMP_HEADER]
    expected = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + call.body,
                        hashlib.sha256).hexdigest()
    assert hmac.compare_digest(call.headers[SIGNATURE_HEADER], expected)
    assert call.headers["Content-Type"] == "application/json"
    return call.json
