"""A case's transcript for download or printing: text, JSON or PDF."""

from __future__ import annotations

import asyncio

from aiohttp import web

from gateway.api import transcript_formats
from gateway.api.auth import access, principal
from gateway.api.bodies import path_id
from gateway.api.errors import ApiError
from gateway.api.keys import WORKFLOW

routes = web.RouteTableDef()
FORMATS = ("txt", "pdf", "json")


@routes.get("/api/cases/{id}/transcript")
@access(scope="cases:read")
async def transcript(request: web.Request) -> web.Response:
    fmt = request.query.get("format", "txt")
    if fmt not in FORMATS:
        raise ApiError(400, "invalid_input", "format must be txt, pdf or json")
    case_id = path_id(request)
    built = await request.app[WORKFLOW].transcripts.build(principal(request), case_id, fmt)
    name = f"case-{case_id}-transcript.{fmt}"
    disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
    if fmt == "json":
        return web.json_response(transcript_formats.as_json(built), headers=disposition)
    if fmt == "pdf":
        # Laying out a long case takes a moment: off the event loop.
        body = await asyncio.to_thread(transcript_formats.as_pdf, built)
        return web.Response(body=body, content_type="application/pdf", headers=disposition)
    return web.Response(text=transcript_formats.as_text(built), content_type="text/plain",
                        charset="utf-8", headers=disposition)
