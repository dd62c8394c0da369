"""The agent API's aiohttp application, composed from explicitly passed dependencies."""

from __future__ import annotations

from aiohttp import WSCloseCode, web
from prometheus_client import CollectorRegistry

from gateway.api import events_ws, routes_admin, routes_chat, routes_cluster, routes_session
from gateway.api.auth import auth_middleware
from gateway.api.bodies import MAX_PREVIEW_CHARS
from gateway.api.desk_routes import DESK_ROUTES
from gateway.api.errors import error_middleware
from gateway.api.health import METRICS, ApiMetrics, metrics_middleware
from gateway.api.health import routes as health_routes
from gateway.api.keys import CLOCK, CONFIG, REGISTRY, WEBSOCKETS, WORKFLOW
from gateway.api.server import set_api_headers
from gateway.config import Config
from gateway.service.workflow import Workflow

# The composer preview takes its text in the query string: room for the longest text it accepts
# with every character percent-encoded from four UTF-8 bytes.
MAX_REQUEST_LINE_BYTES = MAX_PREVIEW_CHARS * 12 + 1024


def create_app(*, workflow: Workflow, config: Config) -> web.Application:
    """The agent API over a workflow the caller built, started and will stop (the daemon owns
    the service; this app only serves it). Websockets are closed on shutdown; the caller runs
    the app (web.AppRunner)."""
    app = web.Application(
        middlewares=[error_middleware, metrics_middleware, auth_middleware],
        client_max_size=config.http.max_body_bytes,
        handler_args={"max_line_size": MAX_REQUEST_LINE_BYTES},
    )
    registry = CollectorRegistry()
    app[CONFIG] = config
    app[CLOCK] = workflow.clock
    app[WORKFLOW] = workflow
    app[REGISTRY] = registry
    app[METRICS] = ApiMetrics(registry)
    app[WEBSOCKETS] = set()
    for table in (routes_session.routes, routes_chat.routes, routes_admin.routes,
                  routes_cluster.routes, events_ws.routes, health_routes, *DESK_ROUTES):
        app.add_routes(table)
    app.on_shutdown.append(_close_websockets)
    app.on_response_prepare.append(set_api_headers)
    return app


async def _close_websockets(app: web.Application) -> None:
    sockets: set[web.WebSocketResponse] = app[WEBSOCKETS]
    for ws in tuple(sockets):
        await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")
