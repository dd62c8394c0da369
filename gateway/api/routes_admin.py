"""Admins manage users and API tokens, read the audit log, see and clear login throttles, and
see quarantined messages."""

from __future__ import annotations

from aiohttp import web

from gateway.api import serialize
from gateway.api.auth import access, principal
from gateway.api.bodies import (
    MAX_LOG_ID,
    MAX_ROW_ID,
    ClearLoginLimitsBody,
    CreateTokenBody,
    CreateUserBody,
    UpdateUserBody,
    path_id,
    query_int,
    read_body,
)
from gateway.api.errors import ApiError
from gateway.api.keys import WORKFLOW

routes = web.RouteTableDef()


@routes.get("/api/users")
@access(role="admin", scope="admin")
async def list_users(request: web.Request) -> web.Response:
    users = await request.app[WORKFLOW].accounts.list_users()
    return web.json_response({"users": [serialize.user(u) for u in users]})


@routes.post("/api/users")
@access(role="admin", scope="admin")
async def create_user(request: web.Request) -> web.Response:
    body = await read_body(request, CreateUserBody)
    user, generated = await request.app[WORKFLOW].accounts.add_user(
        body.username, body.role, body.password, by=principal(request).user_id
    )
    return web.json_response({"user": serialize.user(user), "password": generated}, status=201)


@routes.post("/api/users/{id}")
@access(role="admin", scope="admin")
async def update_user(request: web.Request) -> web.Response:
    body = await read_body(request, UpdateUserBody)
    accounts = request.app[WORKFLOW].accounts
    user = await accounts.get_user(path_id(request))
    by = principal(request).user_id
    if body.disabled and user.id == by:
        raise ApiError(409, "conflict", "an admin cannot disable their own account")
    if body.password is not None:
        user = await accounts.set_password(user.username, body.password, by)
    if body.disabled is not None:
        user = await accounts.set_disabled(user.username, body.disabled, by)
    if body.role is not None:
        user = await accounts.set_role(user.username, body.role, by)
    return web.json_response({"user": serialize.user(user)})


@routes.get("/api/tokens")
@access(role="admin", scope="admin")
async def list_tokens(request: web.Request) -> web.Response:
    tokens = await request.app[WORKFLOW].accounts.list_tokens()
    return web.json_response({"tokens": [serialize.token(t) for t in tokens]})


@routes.post("/api/tokens")
@access(role="admin", scope="admin")
async def create_token(request: web.Request) -> web.Response:
    body = await read_body(request, CreateTokenBody)
    created = await request.app[WORKFLOW].accounts.create_token(
        body.name, body.user, body.scopes, principal(request).user_id
    )
    return web.json_response(
        {"token": serialize.token(created.token), "secret": created.secret}, status=201
    )


@routes.post("/api/tokens/{id}/revoke")
@access(role="admin", scope="admin")
async def revoke_token(request: web.Request) -> web.Response:
    token = await request.app[WORKFLOW].accounts.revoke_token(
        path_id(request), principal(request).user_id
    )
    return web.json_response({"token": serialize.token(token)})


@routes.get("/api/audit")
@access(role="admin", scope="admin")
async def audit_log(request: web.Request) -> web.Response:
    limit = query_int(request, "limit", default=100, low=1, high=1000)
    before = query_int(request, "before", default=None, low=1, high=MAX_LOG_ID)
    assert limit is not None
    case = query_int(request, "case", default=None, low=1, high=MAX_ROW_ID)
    entries = await request.app[WORKFLOW].accounts.audit_log(
        limit, before_id=before, target=f"case:{case}" if case is not None else None,
        username=_filter(request, "user", 100), action=_filter(request, "action", 64),
    )
    return web.json_response({"entries": [
        {"id": e.id, "user_id": e.user_id, "action": e.action, "target": e.target,
         "details": e.details, "at": serialize.time(e.at)}
        for e in entries
    ]})


@routes.get("/api/quarantine")
@access(role="admin", scope="admin")
async def quarantine(request: web.Request) -> web.Response:
    """Inbound messages the store refused, kept with their raw PDU; newest first."""
    limit = query_int(request, "limit", default=100, low=1, high=1000)
    before = query_int(request, "before", default=None, low=1, high=MAX_LOG_ID)
    assert limit is not None
    repository = request.app[WORKFLOW].store.quarantine
    entries = await repository.recent(limit=limit, before_id=before)
    return web.json_response({"total": await repository.count(), "messages": [
        {"id": e.id, "line_id": e.line_id, "pdu": e.pdu, "reason": e.reason,
         "attempts": e.attempts, "at": serialize.time(e.created_at)}
        for e in entries
    ]})


@routes.get("/api/login-limits")
@access(role="admin", scope="admin")
async def login_limits(request: web.Request) -> web.Response:
    """Login failure counters that currently slow attempts down, longest wait first."""
    throttles = await request.app[WORKFLOW].accounts.login_throttles()
    return web.json_response({"throttles": throttles})


@routes.post("/api/login-limits/clear")
@access(role="admin", scope="admin")
async def clear_login_limits(request: web.Request) -> web.Response:
    body = await read_body(request, ClearLoginLimitsBody)
    cleared = await request.app[WORKFLOW].accounts.clear_login_limits(
        username=body.username, address=body.address, by=principal(request).user_id
    )
    return web.json_response({"cleared": cleared})


def _filter(request: web.Request, name: str, max_chars: int) -> str | None:
    value = request.query.get(name) or None
    if value is not None and (len(value) > max_chars or "\x00" in value):
        raise ApiError(400, "invalid_input", f"{name} is at most {max_chars} characters")
    return value
