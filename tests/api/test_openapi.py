"""The served OpenAPI file and docs/API.md describe exactly what the server does: the same
routes, and (API.md) the webhook bodies and headers the server really sends."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from gateway.service.webhooks import DELIVERY_HEADER, EVENT_HEADER, USER_AGENT

from .conftest import Env
from .webhook_receiver import Receiver, verify, webhook_config

API_MD = Path(__file__).parents[2] / "docs" / "API.md"
SERVED_DOCUMENTS = {"/api/openapi.json", "/api/openapi.yaml"}
# `GET /path`, `GET/POST /path`, `GET /api/events[?since=N]`: a method, a space, a path.
DOCUMENTED_ROUTE = re.compile(r"`((?:GET|POST|PUT|PATCH|DELETE)(?:/(?:GET|POST|PUT|PATCH|DELETE))*)"
                              r" (/[^`\s?\[]*)")


@pytest.fixture
def config_overrides(receiver: Receiver) -> dict[str, Any]:
    return webhook_config(receiver)


def _served(env: Env) -> set[tuple[str, str]]:
    return {
        (route.resource.canonical, route.method)
        for route in env.app.router.routes()
        if route.resource is not None and route.method != "HEAD"
    }


async def test_openapi_lists_every_route_and_only_those(env: Env) -> None:
    response = await env.client.get("/api/openapi.json")
    assert response.status == 200
    document = await response.json()
    documented = {(path, method.upper()) for path, item in document["paths"].items()
                  for method in item}
    served = {(path, method) for path, method in _served(env) if path not in SERVED_DOCUMENTS}
    assert documented == served
    yaml_response = await env.client.get("/api/openapi.yaml")
    assert yaml_response.status == 200
    assert yaml_response.content_type == "application/yaml"


async def test_api_md_lists_every_route_and_only_those(env: Env) -> None:
    documented = {
        (path, method)
        for methods, path in DOCUMENTED_ROUTE.findall(API_MD.read_text(encoding="utf-8"))
        for method in methods.split("/")
    }
    assert documented == _served(env)


def _json_examples(section: str) -> dict[str, dict[str, Any]]:
    examples = [json.loads(block) for block in re.findall(r"```json\n(.*?)```", section, re.S)]
    return {example["type"]: example for example in examples}


async def test_api_md_describes_the_webhook_bodies_and_headers_sent(
    env: Env, receiver: Receiver
) -> None:
    receiver.fail_first = 0
    await env.text_in("Hello")
    await receiver.wait_for_calls(2)
    sent = {verify(call)["type"]: (call, verify(call)) for call in receiver.calls}
    section = API_MD.read_text(encoding="utf-8").split("## Outgoing webhooks", 1)[1]
    examples = _json_examples(section)
    assert set(examples) == set(sent) == {"message.created", "request.created"}
    for type_, (call, body) in sent.items():
        example = examples[type_]
        assert set(example) == set(body), type_
        assert set(example["data"]) == set(body["data"]), type_
        # Every data field is explained in the prose after its example, not only shown.
        prose = section.split(f"`{type_}` data:", 1)[1].split("```", 1)[0]
        missing = [key for key in body["data"] if f"`{key}`" not in prose]
        assert not missing, (type_, missing)
        gateway_headers = {name for name in call.headers if name.startswith("X-Gateway-")}
        assert {name for name in gateway_headers if f"{name}:" in section} == gateway_headers
        assert call.headers["User-Agent"] == USER_AGENT
        assert f"User-Agent: {USER_AGENT}" in section
        assert {EVENT_HEADER, DELIVERY_HEADER} <= gateway_headers


async def test_healthz_and_metrics_need_no_login(env: Env) -> None:
    assert (await env.client.get("/healthz")).status == 200
    response = await env.client.get("/metrics")
    assert response.status == 200
    assert "sms_gateway_pending_requests 0.0" in await response.text()
    await env.text_in("hello")
    assert "sms_gateway_pending_requests 1.0" in await (await env.client.get("/metrics")).text()
    health = await (await env.client.get("/healthz")).json()
    assert health["last_event_seq"] == await env.store.events.last_seq() > 0
