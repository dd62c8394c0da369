"""The daemon's local control socket: `sms-gateway status`, `send` and `logins` talk to the
running daemon through a unix socket in data_dir, which only its own user (and root) may open.

The client side (`call_daemon`) uses only the standard library, so those commands start without
importing aiohttp; the server side imports it when the daemon builds it.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from aiohttp import web

SOCKET_NAME = "control.sock"
CALL_TIMEOUT_S = 10.0


def socket_path(data_dir: Path) -> Path:
    return data_dir / SOCKET_NAME


class LoginLimitsControl(Protocol):
    """What the control socket needs of the accounts service (login throttles live in the
    daemon's memory, so only the daemon can show or clear them)."""

    def login_throttles(self) -> list[dict[str, Any]]: ...

    async def clear_login_limits(
        self, *, username: str | None, address: str | None, by: int | None
    ) -> int: ...


class ControlError(Exception):
    """No daemon answered on the control socket, or it answered with an error."""


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: Path, timeout_s: float) -> None:
        super().__init__("localhost", timeout=timeout_s)
        self._path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(str(self._path))


def call_daemon(
    data_dir: Path, method: str, route: str, timeout_s: float = CALL_TIMEOUT_S
) -> dict[str, Any]:
    """One request to the daemon running on `data_dir`; its JSON answer, or ControlError."""
    path = socket_path(data_dir)
    connection = _UnixConnection(path, timeout_s)
    try:
        connection.request(method, route)
        response = connection.getresponse()
        body = response.read()
    except (OSError, http.client.HTTPException) as error:
        raise ControlError(f"no answer on {path}: {error}") from error
    finally:
        connection.close()
    if response.status >= 400:
        raise ControlError(f"{method} {route} on {path}: {response.status} {response.reason}")
    try:
        result: dict[str, Any] = json.loads(body)
    except ValueError as error:
        raise ControlError(f"{method} {route} on {path}: not JSON: {error}") from error
    return result


def create_control_app(
    status: Callable[[], Awaitable[dict[str, Any]]],
    wake_outbound: Callable[[], None],
    login_limits: Callable[[], LoginLimitsControl | None] = lambda: None,
) -> web.Application:
    from aiohttp import web

    async def get_status(_request: web.Request) -> web.Response:
        return web.json_response(await status())

    async def post_wake(_request: web.Request) -> web.Response:
        wake_outbound()
        return web.json_response({"woken": True})

    def limits() -> LoginLimitsControl:
        found = login_limits()
        if found is None:
            raise web.HTTPServiceUnavailable(text="the API is not running yet")
        return found

    async def get_login_limits(_request: web.Request) -> web.Response:
        return web.json_response({"throttles": limits().login_throttles()})

    async def post_login_limits_clear(request: web.Request) -> web.Response:
        body = await request.json()
        username, address = body.get("username"), body.get("address")
        if not all(v is None or isinstance(v, str) for v in (username, address)):
            raise web.HTTPBadRequest(text="username and address must be strings")
        cleared = await limits().clear_login_limits(username=username, address=address, by=None)
        return web.json_response({"cleared": cleared})

    app = web.Application()
    app.router.add_get("/status", get_status)
    app.router.add_post("/outbound/wake", post_wake)
    app.router.add_get("/login-limits", get_login_limits)
    app.router.add_post("/login-limits/clear", post_login_limits_clear)
    return app


class ControlServer:
    def __init__(self, path: Path, app: web.Application) -> None:
        from aiohttp import web

        self.path = path
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)

    async def start(self) -> None:
        from aiohttp import web

        await self._runner.setup()
        if self.path.is_socket():
            self.path.unlink()  # left by a daemon that was killed
        old_umask = os.umask(0o177)
        try:
            await web.UnixSite(self._runner, str(self.path)).start()
        finally:
            os.umask(old_umask)

    async def stop(self) -> None:
        await self._runner.cleanup()
        if self.path.is_socket():
            self.path.unlink()
