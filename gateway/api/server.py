"""The HTTP server around the API app: slow clients are cut off, and even the errors aiohttp
answers before any route is found (a request line or headers too long, garbage) are JSON.

aiohttp has no time limit on receiving a request's headers, so a client sending them a byte at
a time (slowloris) would hold a connection for ever: each connection's handler here closes it
when a request's headers are not complete `header_timeout_s` after the connection opened or its
first byte arrived. Bodies are bounded by `gateway.api.bodies.read_body`'s own timeout, and
what is left of one unread closes the connection.
"""

from __future__ import annotations

import asyncio
import json
from http import HTTPStatus
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

from gateway.api.errors import HTTP_CODES

SERVER_NAME = "sms-gateway"
DEFAULT_HEADER_TIMEOUT_S = 10.0
MAX_ERROR_MESSAGE_CHARS = 200


def api_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Every answer: no version in `Server`; API answers never cached (they hold customers'
    texts and CSRF tokens)."""
    response.headers["Server"] = SERVER_NAME
    if request.path.startswith("/api/") or request.path == "/metrics":
        response.headers["Cache-Control"] = "no-store"


async def set_api_headers(request: web.Request, response: web.StreamResponse) -> None:
    """The app's on_response_prepare signal."""
    api_headers(request, response)


class _GuardedHandler(RequestHandler):
    """One connection: headers within the deadline, JSON for errors found while parsing."""

    def __init__(self, manager: web.Server, *, header_timeout_s: float, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._header_timeout_s = header_timeout_s
        self._header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: BaseException | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        parsed = self._request_count
        super().data_received(data)
        if self._request_count > parsed or self._upgraded:
            self._disarm()  # the headers are in; the body has its own timeout
        elif data and self._current_request is None and not self._messages:
            self._arm()  # the first bytes of a request's headers

    def _arm(self) -> None:
        if self._header_deadline is None:
            self._header_deadline = asyncio.get_running_loop().call_later(
                self._header_timeout_s, self._too_slow
            )

    def _disarm(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _too_slow(self) -> None:
        self._header_deadline = None
        if self.transport is not None and self._current_request is None and not self._messages:
            self.logger.debug("closing a connection whose request headers are too slow")
            self.transport.close()

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if request.writer.output_size > 0:
            raise ConnectionError("the answer was already under way; cannot send an error")
        if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
            self.log_exception("Error handling request from %s", request.remote, exc_info=exc)
            text = "internal error; it has been logged"
        else:
            # Malformed requests are the internet's background noise: not worth an ERROR each.
            self.logger.debug("bad request from %s: %r", request.remote, exc)
            text = (message or HTTPStatus(status).phrase)[:MAX_ERROR_MESSAGE_CHARS]
        body = {"error": {"code": HTTP_CODES.get(status, "http_error"), "message": text}}
        response = web.Response(
            status=status, text=json.dumps(body), content_type="application/json",
            headers={"Server": SERVER_NAME, "Cache-Control": "no-store"},
        )
        response.force_close()
        return response


class _GuardedServer(web.Server):
    header_timeout_s = DEFAULT_HEADER_TIMEOUT_S

    def __call__(self) -> RequestHandler:
        return _GuardedHandler(
            self, loop=self._loop, header_timeout_s=self.header_timeout_s, **self._kwargs
        )


class ApiRunner(web.AppRunner):
    """web.AppRunner whose connections are guarded as this module says."""

    def __init__(
        self, app: web.Application, *, header_timeout_s: float = DEFAULT_HEADER_TIMEOUT_S,
        **kwargs: Any,
    ) -> None:
        # An unread rest of a body (a 408, a refused upload) closes the connection at once
        # rather than being drained for aiohttp's default 10 s: slow bodies hold nothing.
        kwargs.setdefault("lingering_time", 0.0)
        super().__init__(app, **kwargs)
        self._header_timeout_s = header_timeout_s

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        server.__class__ = _GuardedServer  # the same server, making guarded handlers
        assert isinstance(server, _GuardedServer)
        server.header_timeout_s = self._header_timeout_s
        return server
