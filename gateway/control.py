"""The daemon's local control socket: `sms-gateway status` and `sms-gateway send` talk to the
running daemon through a unix socket in data_dir, which only its own user (and root) may open.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

SOCKET_NAME = "control.sock"

def socket_path(data_dir: Path) -> Path:
    return data_dir / SOCKET_NAME


def create_control_app(
    status: Callable[[], Awaitable[dict[str, Any]]], wake_outbound: Callable[[], None]
) -> web.Application:
    async def get_status(_request: web.Request) -> web.Response:
        return web.json_response(await status())

    async def post_wake(_request: web.Request) -> web.Response:
        wake_outbound()
        return web.json_response({"woken": True})

    app = web.Application()
    app.router.add_get("/status", get_status)
    app.router.add_post("/outbound/wake", post_wake)
    return app


class ControlServer:
    def __init__(self, path: Path, app: web.Application) -> None:
        self.path = path
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)

    async def start(self) -> None:
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
