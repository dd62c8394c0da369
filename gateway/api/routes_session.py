"""Logging in and out: a session cookie (HttpOnly, SameSite=Strict) plus a CSRF token."""

from __future__ import annotations

from aiohttp import web

from gateway.api import serialize
from gateway.api.auth import SESSION_COOKIE, access, check_origin, principal
from gateway.api.bodies import LoginBody, read_body
from gateway.api.keys import AUTH, CONFIG, WORKFLOW

routes = web.RouteTableDef()


@routes.post("/api/login")
@access(public=True)
async def login(request: web.Request) -> web.Response:
    check_origin(request, required=False)
    body = await read_body(request, LoginBody)
    workflow = request.app[WORKFLOW]
    result = await workflow.accounts.login(body.username, body.password, request.remote or "")
    response = web.json_response(
        {"user": serialize.user(result.user), "csrf_token": result.csrf_token,
         "expires_at": serialize.time(result.expires_at)}
    )
    config = request.app[CONFIG]
    response.set_cookie(
        SESSION_COOKIE, result.session_secret, httponly=True, samesite="Strict",
        secure=config.http.tls_cert is not None, path="/",
        max_age=int(config.http.session_ttl_s),
    )
    return response


@routes.post("/api/logout")
@access()
async def logout(request: web.Request) -> web.Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie and principal(request).via == "session":
        await request.app[WORKFLOW].accounts.logout(cookie)
    response = web.json_response({"ok": True})
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


@routes.get("/api/me")
@access()
async def me(request: web.Request) -> web.Response:
    auth = request[AUTH]
    who = auth.principal
    user = await request.app[WORKFLOW].accounts.get_user(who.user_id)
    return web.json_response({
        "user": serialize.user(user), "via": who.via,
        "scopes": sorted(who.scopes) if who.via == "token" else None,
        "csrf_token": auth.csrf_token,
    })
