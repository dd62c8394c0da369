"""The served OpenAPI file lists exactly the routes the server has."""

from __future__ import annotations

from .conftest import Env


async def test_openapi_lists_every_route_and_only_those(env: Env) -> None:
    response = await env.client.get("/api/openapi.json")
    assert response.status == 200
    document = await response.json()
    documented = {(path, method.upper()) for path, item in document["paths"].items()
                  for method in item}
    served = {
        (route.resource.canonical, route.method)
        for route in env.app.router.routes()
        if route.resource is not None and route.method != "HEAD"
        and route.resource.canonical not in ("/api/openapi.json", "/api/openapi.yaml")
    }
    assert documented == served
    assert (await env.client.get("/api/openapi.yaml")).status == 200


async def test_healthz_and_metrics_need_no_login(env: Env) -> None:
    assert (await env.client.get("/healthz")).status == 200
    response = await env.client.get("/metrics")
    assert response.status == 200
    assert "sms_gateway_pending_requests" in await response.text()
