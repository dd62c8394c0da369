"""Canned replies: listed, created, changed and deleted; the console inserts them into the
composer and the agent sends."""

from __future__ import annotations

from aiohttp import web

from gateway.api import desk_serialize
from gateway.api.auth import access, principal
from gateway.api.bodies import path_id, read_body
from gateway.api.desk_bodies import CannedBody, CannedUpdateBody
from gateway.api.keys import WORKFLOW

routes = web.RouteTableDef()


@routes.get("/api/canned")
@access(scope="cases:read")
async def list_canned(request: web.Request) -> web.Response:
    replies = await request.app[WORKFLOW].canned.list(principal(request))
    return web.json_response({"canned": [desk_serialize.canned(r) for r in replies]})


@routes.post("/api/canned")
@access(scope="cases:write")
async def create_canned(request: web.Request) -> web.Response:
    body = await read_body(request, CannedBody)
    reply = await request.app[WORKFLOW].canned.create(
        principal(request), body.title, body.text, shared=body.shared, shortcut=body.shortcut
    )
    return web.json_response({"canned": desk_serialize.canned(reply)}, status=201)


@routes.put("/api/canned/{id}")
@access(scope="cases:write")
async def update_canned(request: web.Request) -> web.Response:
    body = await read_body(request, CannedUpdateBody)
    reply = await request.app[WORKFLOW].canned.update(
        principal(request), path_id(request), body.title, body.text, body.shortcut
    )
    return web.json_response({"canned": desk_serialize.canned(reply)})


@routes.delete("/api/canned/{id}")
@access(scope="cases:write")
async def delete_canned(request: web.Request) -> web.Response:
    await request.app[WORKFLOW].canned.delete(principal(request), path_id(request))
    return web.json_response({"ok": True})
