"""HTTP abuse: deep JSON, over-long request lines, slow clients, forged Host headers, and the
headers every answer carries, on the server the daemon runs (start_site over real TCP)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from gateway.api.app import create_app
from gateway.api.site import start_site

from .conftest import PASSWORD, Env, make_config

HEADER_TIMEOUT_S = 0.5


@pytest.fixture
async def served(env: Env, tmp_path: Any) -> AsyncIterator[str]:
    """The API app behind ApiRunner on a real port; returns its base URL."""
    config = make_config(tmp_path, http={"header_timeout_s": HEADER_TIMEOUT_S,
                                         "body_timeout_s": HEADER_TIMEOUT_S})
    app = create_app(workflow=env.workflow, config=config)
    runner, url = await start_site(app, "127.0.0.1", 0, header_timeout_s=HEADER_TIMEOUT_S)
    try:
        yield url
    finally:
        await runner.cleanup()


async def _raw(url: str, data: bytes, *, read: bool = True) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(data)
        await writer.drain()
        return await asyncio.wait_for(reader.read(1 << 20), 10) if read else b""
    finally:
        writer.close()


async def test_deeply_nested_json_is_a_400_not_a_500(env: Env) -> None:
    response = await env.client.post("/api/login", data="[" * 100_000,
                                     headers={"Content-Type": "application/json"})
    assert response.status == 400
    assert (await response.json())["error"]["code"] == "invalid_json"
    nested: Any = "x"
    for _ in range(100):
        nested = [nested]
    response = await env.client.post("/api/login", json={"username": nested, "password": "x"})
    assert response.status == 400


async def test_api_answers_are_not_cached_and_the_server_header_has_no_version(
    env: Env,
) -> None:
    for path in ("/api/openapi.json", "/api/me", "/healthz"):
        response = await env.client.get(path)
        server = response.headers["Server"]
        assert server == "sms-gateway", server
        if path.startswith("/api/"):
            assert response.headers["Cache-Control"] == "no-store"


async def test_an_over_long_request_line_or_header_gets_a_json_error(served: str) -> None:
    for request in (
        b"GET /api/" + b"a" * 300_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /api/me HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 100_000 + b"\r\n\r\n",
    ):
        answer = await _raw(served, request)
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.split(b" ")[1] == b"400", head[:100]
        assert b"application/json" in head
        assert b"Server: sms-gateway" in head
        assert json.loads(body)["error"]["code"]


async def test_a_client_sending_headers_slowly_is_cut_off(served: str) -> None:
    host, port = served.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))

    async def dribble() -> None:
        """One header line every 0.1 s: without a deadline it would go on for ever."""
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        for n in range(10_000):
            writer.write(f"X-Slow-{n}: 1\r\n".encode())
            await writer.drain()
            await asyncio.sleep(0.1)

    dribbling = asyncio.create_task(dribble())
    try:
        # The server closes without an answer, long before the dribble would end.
        assert await asyncio.wait_for(reader.read(), HEADER_TIMEOUT_S * 20) == b""
    finally:
        dribbling.cancel()
        await asyncio.gather(dribbling, return_exceptions=True)
        writer.close()


async def test_a_client_connecting_and_sending_nothing_is_cut_off(served: str) -> None:
    assert await _raw(served, b"") == b""  # closed, no answer


async def test_a_body_that_does_not_arrive_is_a_408(env: Env, served: str) -> None:
    request = (b"POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Content-Length: 100\r\n\r\n{\"username\"")
    answer = await _raw(served, request)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:100]


async def test_origin_is_checked_against_the_address_reached_not_the_host_header(
    env: Env, served: str
) -> None:
    await env.user("alice")
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        login = await session.post(f"{served}/api/login",
                                   json={"username": "alice", "password": PASSWORD})
        csrf = (await login.json())["csrf_token"]
        forged = await session.post(
            f"{served}/api/cases", json={"phone": "+15551230000"},
            headers={"X-CSRF-Token": csrf, "Host": "evil.example",
                     "Origin": "http://evil.example"},
        )
        assert forged.status == 403
        assert (await forged.json())["error"]["code"] == "bad_origin"
        port = served.rsplit(":", 1)[1]
        for origin in (served, f"http://localhost:{port}"):
            own = await session.post(f"{served}/api/cases", json={"phone": "+15551230000"},
                                     headers={"X-CSRF-Token": csrf, "Origin": origin})
            assert own.status in (200, 201), await own.text()
