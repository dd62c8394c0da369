"""Authentication (session cookie or bearer token), per-route access rules, CSRF and Origin.

Every route declares who may call it with `@access(...)`; a route without a declaration is
refused, so a forgotten rule fails closed.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from gateway.api.errors import ApiError
from gateway.api.keys import AUTH, CONFIG, WORKFLOW, Auth
from gateway.service.access import Principal
from gateway.store.domain import Role

SESSION_COOKIE = "sms_gateway_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class Access:
    public: bool = False
    role: Role = "agent"
    scope: str | None = None


_RULES: dict[Handler, Access] = {}


def access(
    *, public: bool = False, role: Role = "agent", scope: str | None = None
) -> Callable[[Handler], Handler]:
    def mark(handler: Handler) -> Handler:
        _RULES[handler] = Access(public=public, role=role, scope=scope)
        return handler

    return mark


def rule_for(handler: Any) -> Access | None:
    return _RULES.get(handler)


def principal(request: web.Request) -> Principal:
    return request[AUTH].principal


_LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def own_origins(request: web.Request) -> set[str]:
    """`http.trusted_origins`, and the address and port this connection reached (by name too
    on loopback). Never the Host header: the client chooses that, and DNS rebinding makes a
    hostile page's requests carry its own name there."""
    config = request.app[CONFIG]
    origins = set(config.http.trusted_origins)
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    if isinstance(sockname, tuple) and len(sockname) >= 2:
        address, port = str(sockname[0]), int(sockname[1])
        scheme = "https" if config.http.tls_cert is not None else "http"
        try:
            loopback = ipaddress.ip_address(address).is_loopback
        except ValueError:
            loopback = False
        hosts = _LOOPBACK_NAMES if loopback else (
            f"[{address}]" if ":" in address else address,
        )
        default_port = 443 if scheme == "https" else 80
        for host in hosts:
            origins.add(f"{scheme}://{host}:{port}")
            if port == default_port:
                origins.add(f"{scheme}://{host}")
    return origins


def check_origin(request: web.Request, *, required: bool) -> None:
    """A browser always sends Origin on cross-site writes and websockets; it must be ours."""
    origin = request.headers.get("Origin")
    if origin is None:
        if required:
            raise ApiError(403, "bad_origin", "the Origin header is required")
        return
    if origin not in own_origins(request):
        raise ApiError(403, "bad_origin", f"origin {origin} is not allowed")


async def authenticate(request: web.Request) -> Auth | None:
    """Who sent `request` (cookie or bearer token), None when nobody; a malformed or unknown
    bearer token raises ApiError (401)."""
    workflow = request.app[WORKFLOW]
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise ApiError(401, "unauthenticated", "Authorization must be 'Bearer <token>'")
        token_principal = await workflow.accounts.authenticate_token(secret.strip())
        if token_principal is None:
            raise ApiError(401, "unauthenticated", "the API token is not valid")
        return Auth(token_principal, None)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        found = await workflow.accounts.authenticate_session(cookie)
        if found is not None:
            return Auth(found[0], found[1])
    return None


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    match_info = request.match_info
    if match_info.http_exception is not None:
        raise match_info.http_exception
    rule = rule_for(match_info.handler)
    if rule is None:
        raise ApiError(404, "not_found", "no such endpoint")
    if rule.public:
        return await handler(request)
    auth = await authenticate(request)
    if auth is None:
        raise ApiError(401, "unauthenticated", "log in first")
    who = auth.principal
    if request.method not in SAFE_METHODS and who.via == "session":
        check_origin(request, required=False)
        sent = request.headers.get(CSRF_HEADER, "")
        if not sent or auth.csrf_token is None or not hmac.compare_digest(
            sent.encode(), auth.csrf_token.encode()
        ):
            raise ApiError(403, "csrf_failed", f"the {CSRF_HEADER} header is missing or wrong")
    if not who.has_role(rule.role):
        raise ApiError(403, "forbidden", f"this needs the {rule.role} role")
    if rule.scope is not None and not who.has_scope(rule.scope):
        raise ApiError(403, "forbidden", f"this API token lacks the {rule.scope} scope")
    request[AUTH] = auth
    return await handler(request)
