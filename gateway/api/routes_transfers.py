"""Transfers: offer a case to another agent or back to the queue; the target accepts or
declines."""

from __future__ import annotations

from aiohttp import web

from gateway.api import desk_serialize, serialize
from gateway.api.auth import access, principal
from gateway.api.bodies import path_id, read_body
from gateway.api.desk_bodies import TransferBody
from gateway.api.keys import WORKFLOW

routes = web.RouteTableDef()


@routes.post("/api/cases/{id}/transfer")
@access(scope="cases:write")
async def transfer_case(request: web.Request) -> web.Response:
    body = await read_body(request, TransferBody)
    transfer = await request.app[WORKFLOW].transfers.offer(
        principal(request), path_id(request), agent=body.agent, queue=body.queue, note=body.note
    )
    return web.json_response({"transfer": desk_serialize.transfer(transfer)}, status=201)


@routes.post("/api/cases/{id}/transfer/accept")
@access(scope="requests:answer")
async def accept_transfer(request: web.Request) -> web.Response:
    view = await request.app[WORKFLOW].transfers.accept(principal(request), path_id(request))
    return web.json_response({"case": serialize.case(view)})


@routes.post("/api/cases/{id}/transfer/decline")
@access(scope="requests:answer")
async def decline_transfer(request: web.Request) -> web.Response:
    transfer = await request.app[WORKFLOW].transfers.decline(principal(request), path_id(request))
    return web.json_response({"transfer": desk_serialize.transfer(transfer)})


@routes.get("/api/transfers")
@access(scope="requests:read")
async def waiting_transfers(request: web.Request) -> web.Response:
    transfers = await request.app[WORKFLOW].transfers.waiting_for(principal(request))
    return web.json_response({"transfers": [desk_serialize.transfer(t) for t in transfers]})


@routes.get("/api/transfer-targets")
@access(scope="cases:write")
async def transfer_targets(request: web.Request) -> web.Response:
    users = await request.app[WORKFLOW].transfers.targets(principal(request))
    return web.json_response(
        {"agents": [{"id": u.id, "username": u.username, "role": u.role} for u in users]}
    )
