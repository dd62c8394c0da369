"""Contacts: a name, notes and tags per number (and an address kept from the search)."""

from __future__ import annotations

from aiohttp import web

from gateway.api import desk_serialize, serialize
from gateway.api.auth import access, principal
from gateway.api.bodies import read_body
from gateway.api.desk_bodies import ContactBody
from gateway.api.errors import ApiError
from gateway.api.keys import WORKFLOW
from gateway.service.contacts import UNSET

routes = web.RouteTableDef()
MAX_PHONE_CHARS = 40


def _phone(request: web.Request) -> str:
    phone = request.match_info["phone"]
    if not phone.strip() or len(phone) > MAX_PHONE_CHARS or "\x00" in phone:
        raise ApiError(404, "not_found", "no such contact")
    return phone


@routes.get("/api/contacts/{phone}")
@access(scope="cases:read")
async def get_contact(request: web.Request) -> web.Response:
    contact = await request.app[WORKFLOW].contacts.get(principal(request), _phone(request))
    return web.json_response({"contact": desk_serialize.contact(contact)})


@routes.put("/api/contacts/{phone}")
@access(scope="cases:write")
async def put_contact(request: web.Request) -> web.Response:
    body = await read_body(request, ContactBody)
    contact = await request.app[WORKFLOW].contacts.save(
        principal(request), _phone(request), name=body.name, notes=body.notes, tags=body.tags,
        address=body.address if "address" in body.model_fields_set else UNSET,
    )
    return web.json_response({"contact": desk_serialize.contact(contact)})


@routes.post("/api/contacts/{phone}/forget")
@access(role="admin", scope="admin")
async def forget_contact(request: web.Request) -> web.Response:
    """Erase everything held about a number: its messages, notes, cases and contact record
    (refused while it has an open case); audited under the admin's name."""
    forgotten = await request.app[WORKFLOW].retention.erase(principal(request), _phone(request))
    return web.json_response({"forgotten": {
        "messages": forgotten.messages, "notes": forgotten.notes, "cases": forgotten.cases}})


@routes.get("/api/optouts")
@access(role="admin", scope="admin")
async def list_optouts(request: web.Request) -> web.Response:
    contacts = await request.app[WORKFLOW].contacts.opted_out(principal(request))
    return web.json_response({"optouts": [
        {"phone": c.number, "name": c.name, "opted_out_at": serialize.time(c.opted_out_at)}
        for c in contacts
    ]})
