"""The supervisors' live floor and the figures since a moment (default: today, UTC)."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web

from gateway.api import desk_serialize
from gateway.api.auth import access, principal
from gateway.api.errors import ApiError
from gateway.api.keys import WORKFLOW

routes = web.RouteTableDef()


@routes.get("/api/stats")
@access(role="supervisor", scope="supervise")
async def stats(request: web.Request) -> web.Response:
    raw = request.query.get("since")
    since = None
    if raw is not None:
        try:
            since = datetime.fromisoformat(raw)
        except ValueError as error:
            raise ApiError(400, "invalid_input", "since must be an ISO 8601 time") from error
    figures = await request.app[WORKFLOW].floor.stats(principal(request), since)
    return web.json_response({"stats": desk_serialize.figures(figures)})


@routes.get("/api/floor")
@access(role="supervisor", scope="supervise")
async def floor(request: web.Request) -> web.Response:
    view = await request.app[WORKFLOW].floor.floor(principal(request))
    return web.json_response({"floor": desk_serialize.floor(view)})
