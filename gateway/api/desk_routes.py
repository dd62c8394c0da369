"""The route tables of the agents' desk (notes, canned replies, contacts, ...), for create_app."""

from __future__ import annotations

from aiohttp import web

from gateway.api import (
    routes_canned,
    routes_contacts,
    routes_floor,
    routes_notes,
    routes_presence,
    routes_search,
    routes_transcripts,
    routes_transfers,
    routes_wrapup,
)

DESK_ROUTES: tuple[web.RouteTableDef, ...] = (
    routes_notes.routes,
    routes_canned.routes,
    routes_wrapup.routes,
    routes_contacts.routes,
    routes_transfers.routes,
    routes_presence.routes,
    routes_search.routes,
    routes_transcripts.routes,
    routes_floor.routes,
)
