"""Internal notes on a case: written and read through the API, never sent."""

from __future__ import annotations

from aiohttp import web

from gateway.api import desk_serialize
from gateway.api.auth import access, principal
from gateway.api.bodies import path_id, read_body
from gateway.api.desk_bodies import NoteBody
from gateway.api.keys import WORKFLOW

routes = web.RouteTableDef()


@routes.get("/api/cases/{id}/notes")
@access(scope="cases:read")
async def list_notes(request: web.Request) -> web.Response:
    views = await request.app[WORKFLOW].notes.list(principal(request), path_id(request))
    return web.json_response({"notes": [desk_serialize.note(v) for v in views]})


@routes.post("/api/cases/{id}/notes")
@access(scope="cases:write")
async def add_note(request: web.Request) -> web.Response:
    body = await read_body(request, NoteBody)
    view = await request.app[WORKFLOW].notes.add(principal(request), path_id(request), body.text)
    return web.json_response({"note": desk_serialize.note(view)}, status=201)
