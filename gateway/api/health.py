"""/healthz for load balancers and systemd, /metrics for Prometheus, and the OpenAPI file."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    generate_latest,
)

from gateway.api.auth import access
from gateway.api.keys import REGISTRY, WEBSOCKETS, WORKFLOW

routes = web.RouteTableDef()
OPENAPI_PATH = Path(__file__).with_name("openapi.yaml")


class ApiMetrics:
    """The app's metrics, in a registry of its own so several apps (tests) never clash."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "sms_gateway_http_requests", "HTTP requests answered", ["method", "route", "status"],
            registry=registry,
        )
        self.pending_requests = Gauge(
            "sms_gateway_pending_requests", "SMS Chat Requests waiting for an agent",
            registry=registry,
        )
        self.websockets = Gauge(
            "sms_gateway_websockets", "Open event websockets", registry=registry
        )
        self.agents_online = Gauge(
            "sms_gateway_agents_online", "Users with an open event websocket", registry=registry
        )
        self.quarantined = Gauge(
            "sms_gateway_quarantined_messages",
            "Inbound messages the store refused, kept in the quarantine", registry=registry,
        )


METRICS = web.AppKey("metrics", ApiMetrics)


@web.middleware
async def metrics_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    response: web.StreamResponse = await handler(request)
    resource = request.match_info.route.resource
    route = resource.canonical if resource is not None else "unmatched"
    request.app[METRICS].requests.labels(request.method, route, str(response.status)).inc()
    return response


@routes.get("/healthz")
@access(public=True)
async def healthz(request: web.Request) -> web.Response:
    try:
        seq = await request.app[WORKFLOW].event_log.last_seq()
    except Exception as error:  # any database failure means not healthy
        return web.json_response({"status": "unavailable", "error": type(error).__name__},
                                 status=503)
    return web.json_response({"status": "ok", "last_event_seq": seq})


@routes.get("/metrics")
@access(public=True)
async def metrics(request: web.Request) -> web.Response:
    app = request.app
    workflow = app[WORKFLOW]
    app[METRICS].pending_requests.set(await workflow.router.pending_count())
    app[METRICS].websockets.set(len(app[WEBSOCKETS]))
    app[METRICS].agents_online.set(len(workflow.presence.online))
    app[METRICS].quarantined.set(await workflow.store.quarantine.count())
    body = generate_latest(app[REGISTRY])
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


@cache
def openapi_document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(OPENAPI_PATH.read_text(encoding="utf-8"))
    return loaded


@routes.get("/api/openapi.json")
@access(public=True)
async def openapi_json(request: web.Request) -> web.Response:
    return web.json_response(openapi_document(), dumps=lambda d: json.dumps(d, indent=1))


@routes.get("/api/openapi.yaml")
@access(public=True)
async def openapi_yaml(request: web.Request) -> web.Response:
    return web.Response(text=OPENAPI_PATH.read_text(encoding="utf-8"),
                        content_type="application/yaml")
