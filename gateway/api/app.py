"""The agent API's aiohttp application, composed from explicitly passed dependencies."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import datetime

from aiohttp import WSCloseCode, web
from prometheus_client import CollectorRegistry

from gateway.api import events_ws, routes_admin, routes_chat, routes_cluster, routes_session
from gateway.api.auth import auth_middleware
from gateway.api.bodies import MAX_PREVIEW_CHARS
from gateway.api.errors import error_middleware
from gateway.api.health import METRICS, ApiMetrics, metrics_middleware
from gateway.api.health import routes as health_routes
from gateway.api.keys import (
    BUS,
    CLOCK,
    CONFIG,
    REGISTRY,
    STORE,
    WEBHOOKS,
    WEBSOCKETS,
    WORKFLOW,
)
from gateway.bus import EventBus
from gateway.config import Config
from gateway.log import get_logger
from gateway.service.address import AddressProvider, build_address_provider
from gateway.service.ratelimit import LoginLimits
from gateway.service.secrets import Passwords
from gateway.service.settings import ChatSettings
from gateway.service.webhooks import WebhookDispatcher
from gateway.service.workflow import Workflow
from gateway.store.database import utc_now
from gateway.store.errors import StoreUnavailableError
from gateway.store.store import Store

log = get_logger(__name__)
SESSION_EXPIRY_INTERVAL_S = 600.0
# The composer preview takes its text in the query string: room for the longest text it accepts
# with every character percent-encoded from four UTF-8 bytes.
MAX_REQUEST_LINE_BYTES = MAX_PREVIEW_CHARS * 12 + 1024


def address_provider_from_config(config: Config) -> AddressProvider:
    search = config.address_search
    return build_address_provider(
        search.provider, path=search.path, query=search.query, url_template=search.url_template,
        headers=dict(search.headers), timeout_s=search.timeout_s,
        default_region=config.default_region,
    )


def create_app(
    *,
    store: Store,
    bus: EventBus,
    config: Config,
    wake_outbound: Callable[[], None],
    clock: Callable[[], datetime] = utc_now,
    settings: ChatSettings | None = None,
    address_provider: AddressProvider | None = None,
    passwords: Passwords | None = None,
) -> web.Application:
    """The agent API. Its cleanup context starts the workflow (bus listener, startup sweep of
    unrouted inbound messages, router and ticker tasks) and the outgoing webhooks, and stops
    them, and closes websockets on shutdown; the caller runs the app (web.AppRunner) and owns
    store and bus."""
    app = web.Application(
        middlewares=[error_middleware, metrics_middleware, auth_middleware],
        client_max_size=config.http.max_body_bytes,
        handler_args={"max_line_size": MAX_REQUEST_LINE_BYTES},
    )
    workflow = Workflow(
        store=store, bus=bus, settings=settings or ChatSettings.from_config(config),
        clock=clock, wake_outbound=wake_outbound, session_ttl_s=config.http.session_ttl_s,
        address_provider=address_provider or address_provider_from_config(config),
        passwords=passwords,
        login_limits=LoginLimits(
            max_failures_per_user=config.http.login_max_attempts,
            max_failures_per_address=config.http.login_max_attempts * 4,
            window_s=config.http.login_window_s,
        ),
    )
    registry = CollectorRegistry()
    app[STORE] = store
    app[BUS] = bus
    app[CONFIG] = config
    app[CLOCK] = clock
    app[WORKFLOW] = workflow
    app[REGISTRY] = registry
    app[METRICS] = ApiMetrics(registry)
    app[WEBSOCKETS] = set()
    for table in (routes_session.routes, routes_chat.routes, routes_admin.routes,
                  routes_cluster.routes, events_ws.routes, health_routes):
        app.add_routes(table)
    app[WEBHOOKS] = WebhookDispatcher(store=store, bus=bus, webhooks=config.webhooks, clock=clock)
    app.cleanup_ctx.append(_run_workflow)
    app.cleanup_ctx.append(_run_webhooks)
    app.cleanup_ctx.append(_expire_sessions)
    app.on_shutdown.append(_close_websockets)
    return app


async def _run_workflow(app: web.Application) -> AsyncIterator[None]:
    workflow = app[WORKFLOW]
    await workflow.start()
    try:
        yield
    finally:
        await workflow.stop()


async def _run_webhooks(app: web.Application) -> AsyncIterator[None]:
    dispatcher = app[WEBHOOKS]
    await dispatcher.start()
    try:
        yield
    finally:
        await dispatcher.stop()


async def _expire_sessions(app: web.Application) -> AsyncIterator[None]:
    async def loop() -> None:
        while True:
            with contextlib.suppress(StoreUnavailableError):
                removed = await app[WORKFLOW].accounts.expire_sessions()
                if removed:
                    log.info("expired sessions removed", count=removed)
            await asyncio.sleep(SESSION_EXPIRY_INTERVAL_S)

    task = asyncio.create_task(loop(), name="api-session-expiry")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _close_websockets(app: web.Application) -> None:
    sockets: set[web.WebSocketResponse] = app[WEBSOCKETS]
    for ws in tuple(sockets):
        await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")
