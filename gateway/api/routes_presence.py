"""An agent's presence (available, away, wrap-up) and where they stand against their cap."""

from __future__ import annotations

from aiohttp import web

from gateway.api import desk_serialize
from gateway.api.auth import access, principal
from gateway.api.bodies import read_body
from gateway.api.desk_bodies import PresenceBody
from gateway.api.keys import WORKFLOW

routes = web.RouteTableDef()


@routes.get("/api/me/presence")
@access()
async def get_presence(request: web.Request) -> web.Response:
    view = request.app[WORKFLOW].availability.view(principal(request).user_id)
    return web.json_response({"presence": desk_serialize.presence(view)})


@routes.put("/api/me/presence")
@access()
async def put_presence(request: web.Request) -> web.Response:
    body = await read_body(request, PresenceBody)
    view = await request.app[WORKFLOW].availability.set_status(
        principal(request).user_id, body.status
    )
    return web.json_response({"presence": desk_serialize.presence(view)})
