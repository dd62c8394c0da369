"""Search of past conversations by number, contact name and message text."""

from __future__ import annotations

from aiohttp import web

from gateway.api import desk_serialize
from gateway.api.auth import access, principal
from gateway.api.keys import WORKFLOW

routes = web.RouteTableDef()


@routes.get("/api/search")
@access(scope="cases:read")
async def search(request: web.Request) -> web.Response:
    results = await request.app[WORKFLOW].search.search(
        principal(request), request.query.get("q", "")
    )
    return web.json_response({"results": [desk_serialize.search_result(r) for r in results]})
