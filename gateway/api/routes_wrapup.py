"""The wrap-up codes agents choose from when closing a case (cases.wrap_up_codes)."""

from __future__ import annotations

from aiohttp import web

from gateway.api.auth import access
from gateway.api.keys import WORKFLOW

routes = web.RouteTableDef()


@routes.get("/api/wrap-up-codes")
@access(scope="cases:read")
async def wrap_up_codes(request: web.Request) -> web.Response:
    settings = request.app[WORKFLOW].settings
    return web.json_response(
        {"codes": list(settings.wrap_up_codes), "required": settings.require_wrap_up}
    )
