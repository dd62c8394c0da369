"""The daemon's local control socket: `sms-gateway status`, `send` and `logins` talk to the
running daemon through a unix socket in data_dir, which only its own user (and root) may open.

The client side (`call_daemon`) uses only the standard library, so those commands start without
importing aiohttp; the server side imports it, and the service it answers for, when the daemon
builds it.
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

    from gateway.service.admin_send import AdminSend

SOCKET_NAME = "control.sock"
CALL_TIMEOUT_S = 10.0


def socket_path(data_dir: Path) -> Path:
    return data_dir / SOCKET_NAME


class LoginLimitsControl(Protocol):
    """What the control socket needs of the accounts service (login throttles live in the
    daemon's memory, so only the daemon can show or clear them)."""

    async def login_throttles(self) -> list[dict[str, Any]]: ...

    async def clear_login_limits(
        self, *, username: str | None, address: str | None, by: int | None
    ) -> int: ...


class ControlError(Exception):
    """No daemon answered on the control socket, or it answered with an error.

    `reached` says whether the request got to a daemon: when it did not, nothing was done and the
    command may do the work itself; when it did (an error answer, or no answer in time), the
    daemon may have acted, so the command must not do it again. `status` is the HTTP status of an
    error answer and `detail` its text."""

    def __init__(
        self, message: str, *, reached: bool, status: int | None = None, detail: str = ""
    ) -> None:
        super().__init__(message)
        self.reached = reached
        self.status = status
        self.detail = detail


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: Path, timeout_s: float) -> None:
        super().__init__("localhost", timeout=timeout_s)
        self._path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(str(self._path))


def call_daemon(
    data_dir: Path,
    method: str,
    route: str,
    body: dict[str, Any] | None = None,
    timeout_s: float = CALL_TIMEOUT_S,
) -> dict[str, Any]:
    """One request (with a JSON `body`) to the daemon running on `data_dir`; its JSON answer,
    or ControlError."""
    path = socket_path(data_dir)
    connection = _UnixConnection(path, timeout_s)
    try:
        try:
            connection.connect()
        except OSError as error:
            raise ControlError(f"no answer on {path}: {error}", reached=False) from error
        payload = None if body is None else json.dumps(body).encode()
        headers = {} if payload is None else {"Content-Type": "application/json"}
        try:
            connection.request(method, route, body=payload, headers=headers)
            response = connection.getresponse()
            answer = response.read()
        except (OSError, http.client.HTTPException) as error:
            raise ControlError(f"no answer on {path}: {error}", reached=True) from error
    finally:
        connection.close()
    if response.status >= 400:
        detail = _error_text(answer) or str(response.reason)
        raise ControlError(f"{method} {route} on {path}: {response.status} {detail}",
                           reached=True, status=response.status, detail=detail)
    try:
        result: dict[str, Any] = json.loads(answer)
    except ValueError as error:
        raise ControlError(f"{method} {route} on {path}: not JSON: {error}",
                           reached=True) from error
    return result


def _error_text(answer: bytes) -> str:
    """The `error` of a JSON error answer, else its text."""
    try:
        found = json.loads(answer)
    except ValueError:
        return answer.decode("utf-8", "replace").strip()
    return str(found.get("error", "")) if isinstance(found, dict) else ""


def create_control_app(
    status: Callable[[], Awaitable[dict[str, Any]]],
    wake_outbound: Callable[[], None],
    login_limits: Callable[[], LoginLimitsControl | None] = lambda: None,
    admin_send: AdminSend | None = None,
) -> web.Application:
    from aiohttp import web

    from gateway.service.errors import InvalidInputError, NotFoundError, ServiceError

    def fail(status_code: int, message: str) -> web.Response:
        return web.json_response({"error": message}, status=status_code)

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
        return web.json_response({"throttles": await limits().login_throttles()})

    async def json_object(request: web.Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise web.HTTPBadRequest(text="the body must be a JSON object")
        return body

    async def post_login_limits_clear(request: web.Request) -> web.Response:
        body = await json_object(request)
        username, address = body.get("username"), body.get("address")
        if not all(v is None or isinstance(v, str) for v in (username, address)):
            raise web.HTTPBadRequest(text="username and address must be strings")
        cleared = await limits().clear_login_limits(username=username, address=address, by=None)
        return web.json_response({"cleared": cleared})

    async def post_send(request: web.Request) -> web.Response:
        """Queue an admin's test message: {"to", "text", "line" (optional)}."""
        if admin_send is None:
            return fail(503, "this daemon does not take test messages")
        body = await json_object(request)
        to, text, line = (body.get(k) for k in ("to", "text", "line"))
        if not isinstance(to, str) or not isinstance(text, str) or not (
                line is None or isinstance(line, str)):
            return fail(400, "to and text must be strings, and line a string when given")
        try:
            message = await admin_send.send(to=to, text=text, line=line)
        except NotFoundError as error:
            return fail(404, str(error))
        except InvalidInputError as error:
            return fail(422, str(error))
        except ServiceError as error:
            return fail(409, str(error))
        return web.json_response({"message_id": message.id, "parts": len(message.parts)})

    async def get_message(request: web.Request) -> web.Response:
        if admin_send is None:
            return fail(503, "this daemon does not take test messages")
        try:
            message_id = int(request.match_info["message_id"])
        except ValueError:
            return fail(400, "the message id must be a number")
        try:
            return web.json_response(await admin_send.outcome(message_id))
        except NotFoundError as error:
            return fail(404, str(error))

    app = web.Application()
    app.router.add_get("/status", get_status)
    app.router.add_post("/outbound/wake", post_wake)
    app.router.add_post("/outbound/messages", post_send)
    app.router.add_get("/outbound/messages/{message_id}", get_message)
    app.router.add_get("/login-limits", get_login_limits)
    app.router.add_post("/login-limits/clear", post_login_limits_clear)
    return app


class ControlSocketInUseError(Exception):
    """Another daemon answers on this data_dir's control socket: two daemons must not share
    one data directory (nor its database, when it is SQLite)."""


def _answers(path: Path) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(1.0)
    try:
        probe.connect(str(path))
    except OSError:
        return False
    finally:
        probe.close()
    return True


class ControlServer:
    def __init__(self, path: Path, app: web.Application) -> None:
        from aiohttp import web

        self.path = path
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        self._bound = False

    async def start(self) -> None:
        """Serve on the socket; ControlSocketInUseError (before anything is touched) when a
        running daemon answers there."""
        from aiohttp import web

        if self.path.is_socket():
            if _answers(self.path):
                raise ControlSocketInUseError(
                    f"another sms-gateway is running with data_dir {self.path.parent} (it"
                    f" answers on {self.path}); stop it first, or give this one its own data_dir"
                )
            self.path.unlink()  # left by a daemon that was killed
        await self._runner.setup()
        old_umask = os.umask(0o177)
        try:
            await web.UnixSite(self._runner, str(self.path)).start()
            self._bound = True
        finally:
            os.umask(old_umask)

    async def stop(self) -> None:
        await self._runner.cleanup()
        # Only our own socket: a daemon that failed to start leaves a running one's alone.
        if self._bound and self.path.is_socket():
            self.path.unlink()
        self._bound = False
