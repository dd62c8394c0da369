"""The agents' endpoints: requests, cases, the chat history, Send, lines and the composer."""

from __future__ import annotations

from aiohttp import web

from gateway.api import serialize
from gateway.api.auth import access, principal
from gateway.api.bodies import (
    MAX_LOG_ID,
    MAX_PREVIEW_CHARS,
    MAX_ROW_ID,
    AnswerBody,
    ReassignBody,
    SendBody,
    StartChatBody,
    path_id,
    query_bool,
    query_int,
    read_body,
)
from gateway.api.desk_bodies import CloseBody
from gateway.api.errors import ApiError
from gateway.api.keys import CLOCK, WORKFLOW
from gateway.service.lists import DEFAULT_CASES_PAGE, DEFAULT_REQUESTS_PAGE, MAX_PAGE
from gateway.sms.counter import count_segments

routes = web.RouteTableDef()
IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_IDEMPOTENCY_KEY_CHARS = 200


@routes.get("/api/requests")
@access(scope="requests:read")
async def list_requests(request: web.Request) -> web.Response:
    limit = query_int(request, "limit", default=DEFAULT_REQUESTS_PAGE, low=1, high=MAX_PAGE)
    after = query_int(request, "after", default=None, low=1, high=MAX_ROW_ID)
    assert limit is not None
    page = await request.app[WORKFLOW].chat.list_requests(principal(request), limit, after)
    return web.json_response(serialize.request_page(page, request.app[CLOCK]()))


@routes.post("/api/requests/{id}/answer")
@access(scope="requests:answer")
async def answer_request(request: web.Request) -> web.Response:
    body = await read_body(request, AnswerBody)
    # Through transfers: a request that hands a case back to the queue continues that case.
    view = await request.app[WORKFLOW].transfers.answer(
        principal(request), path_id(request), body.action, body.case_id
    )
    return web.json_response(
        {"case": serialize.case(view.case), "history": serialize.history(view.history)}
    )


@routes.post("/api/cases")
@access(scope="cases:write")
async def start_chat(request: web.Request) -> web.Response:
    body = await read_body(request, StartChatBody)
    view, created = await request.app[WORKFLOW].chat.start_chat(
        principal(request), body.phone, body.line
    )
    return web.json_response({"case": serialize.case(view), "created": created},
                             status=201 if created else 200)


@routes.get("/api/cases")
@access(scope="cases:read")
async def list_cases(request: web.Request) -> web.Response:
    status = request.query.get("status")
    if status not in (None, "open", "closed"):
        raise ApiError(400, "invalid_input", "status must be open or closed")
    limit = query_int(request, "limit", default=DEFAULT_CASES_PAGE, low=1, high=MAX_PAGE)
    before = query_int(request, "before", default=None, low=1, high=MAX_ROW_ID)
    assert limit is not None
    page = await request.app[WORKFLOW].chat.list_cases(
        principal(request), "open" if status == "open" else "closed" if status else None,
        query_bool(request, "mine"), limit, before,
    )
    return web.json_response(serialize.case_page(page))


@routes.get("/api/cases/{id}")
@access(scope="cases:read")
async def get_case(request: web.Request) -> web.Response:
    view = await request.app[WORKFLOW].chat.get_case(principal(request), path_id(request))
    return web.json_response({"case": serialize.case(view)})


@routes.get("/api/cases/{id}/messages")
@access(scope="cases:read")
async def case_messages(request: web.Request) -> web.Response:
    before = query_int(request, "before", default=None, low=1, high=MAX_LOG_ID)
    limit = query_int(request, "limit", default=50, low=1, high=200)
    assert limit is not None
    page = await request.app[WORKFLOW].chat.history(
        principal(request), path_id(request), before, limit
    )
    return web.json_response(serialize.history(page))


@routes.post("/api/cases/{id}/messages")
@access(scope="messages:send")
async def send_message(request: web.Request) -> web.Response:
    body = await read_body(request, SendBody)
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is not None and not (
        1 <= len(key) <= MAX_IDEMPOTENCY_KEY_CHARS and all("!" <= ch <= "~" for ch in key)
    ):
        raise ApiError(400, "invalid_input", f"{IDEMPOTENCY_HEADER} must be 1-"
                       f"{MAX_IDEMPOTENCY_KEY_CHARS} visible ASCII characters (no spaces)")
    if key is not None and body.client_id is not None and key != body.client_id:
        raise ApiError(400, "invalid_input",
                       f"{IDEMPOTENCY_HEADER} and client_id differ; give one or make them equal")
    result = await request.app[WORKFLOW].chat.send(
        principal(request), path_id(request), body.text, body.client_id or key,
        override_opt_out=body.override_opt_out,
    )
    return web.json_response(
        {"message": serialize.message(result.message), "created": result.created},
        status=201 if result.created else 200,
    )


@routes.post("/api/cases/{id}/close")
@access(scope="cases:write")
async def close_case(request: web.Request) -> web.Response:
    # The body is optional: {"wrap_up", "summary"?} (see cases.wrap_up_codes).
    body = await read_body(request, CloseBody) if request.body_exists else CloseBody()
    view = await request.app[WORKFLOW].chat.close_case(
        principal(request), path_id(request), body.wrap_up, body.summary
    )
    return web.json_response({"case": serialize.case(view)})


@routes.post("/api/cases/{id}/handback")
@access(scope="cases:write")
async def hand_back_case(request: web.Request) -> web.Response:
    await request.app[WORKFLOW].chat.hand_back(principal(request), path_id(request))
    return web.json_response({"ok": True})


@routes.post("/api/cases/{id}/reassign")
@access(role="supervisor", scope="supervise")
async def reassign_case(request: web.Request) -> web.Response:
    body = await read_body(request, ReassignBody)
    view = await request.app[WORKFLOW].chat.reassign(
        principal(request), path_id(request), body.agent
    )
    return web.json_response({"case": serialize.case(view)})


@routes.get("/api/lines")
@access(scope="lines:read")
async def list_lines(request: web.Request) -> web.Response:
    views = await request.app[WORKFLOW].lines.lines(principal(request))
    return web.json_response({"lines": [serialize.line(v) for v in views]})


@routes.get("/api/compose/preview")
@access()
async def compose_preview(request: web.Request) -> web.Response:
    text = request.query.get("text", "")
    if len(text) > MAX_PREVIEW_CHARS:
        raise ApiError(400, "invalid_input", f"text is longer than {MAX_PREVIEW_CHARS}")
    max_parts = request.app[WORKFLOW].settings.max_parts
    return web.json_response(serialize.segments(count_segments(text, max_parts)))


@routes.get("/api/agents")
@access(role="supervisor", scope="supervise")
async def list_agents(request: web.Request) -> web.Response:
    views = await request.app[WORKFLOW].floor.agents(principal(request))
    return web.json_response({"agents": [serialize.agent(v) for v in views]})
