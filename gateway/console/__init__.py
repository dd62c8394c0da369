"""The agent web console and the demo's customer phone page: static files the daemon serves.

No build step: the console is plain ES modules. The alert sound is synthesised on first use,
so the repository holds no binary audio. The routes are declared public to the API's access
rules (the page itself holds no data; everything it shows comes from the authenticated API).
"""

from __future__ import annotations

import functools
import io
import math
import struct
import wave
from pathlib import Path

from aiohttp import web

from gateway.api.auth import access

STATIC_DIR = Path(__file__).resolve().parent
PHONE_PAGE_DIR = STATIC_DIR / "sim"
CONSOLE_PREFIX = "/console"
ALERT_SOUND_PATH = f"{CONSOLE_PREFIX}/alert.wav"

_CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".wav": "audio/wav",
}
# Everything from our own origin; nothing inline, nothing from elsewhere.
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self'; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": _CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",
}

ALERT_RATE_HZ = 16000
ALERT_TONES_HZ = (440.0, 480.0)  # the North American ringback pair
ALERT_BURST_S = 0.4
ALERT_GAP_S = 0.2
ALERT_PERIOD_S = 2.0  # two bursts, then silence; the console loops it while a request waits
ALERT_VOLUME = 0.35


@functools.cache
def alert_wav() -> bytes:
    """A ring: two short two-tone bursts then silence, 16-bit mono PCM, faded at the edges."""
    frames = bytearray()
    fade = int(0.01 * ALERT_RATE_HZ)
    burst = int(ALERT_BURST_S * ALERT_RATE_HZ)
    bursts = (0, int((ALERT_BURST_S + ALERT_GAP_S) * ALERT_RATE_HZ))
    total = int(ALERT_PERIOD_S * ALERT_RATE_HZ)
    for i in range(total):
        sample = 0.0
        for start in bursts:
            k = i - start
            if 0 <= k < burst:
                envelope = min(1.0, k / fade, (burst - k) / fade)
                t = i / ALERT_RATE_HZ
                tone = sum(math.sin(2 * math.pi * f * t) for f in ALERT_TONES_HZ) / 2
                sample = ALERT_VOLUME * envelope * tone
        frames += struct.pack("<h", int(sample * 32767))
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(ALERT_RATE_HZ)
        wav.writeframes(bytes(frames))
    return out.getvalue()


def _file_response(directory: Path, name: str) -> web.StreamResponse:
    path = (directory / name).resolve()
    if (
        not path.is_relative_to(directory)
        or path.suffix not in _CONTENT_TYPES
        or not path.is_file()
    ):
        raise web.HTTPNotFound()
    return web.FileResponse(
        path, headers={"Content-Type": _CONTENT_TYPES[path.suffix], **SECURITY_HEADERS}
    )


@access(public=True)
async def _index(request: web.Request) -> web.StreamResponse:
    return _file_response(STATIC_DIR, "index.html")


@access(public=True)
async def _console_file(request: web.Request) -> web.StreamResponse:
    return _file_response(STATIC_DIR, request.match_info["path"])


@access(public=True)
async def _alert_sound(request: web.Request) -> web.Response:
    return web.Response(
        body=alert_wav(), headers={"Content-Type": "audio/wav", **SECURITY_HEADERS}
    )


@access(public=True)
async def _phone_page(request: web.Request) -> web.StreamResponse:
    return _file_response(PHONE_PAGE_DIR, "index.html")


@access(public=True)
async def _phone_asset(request: web.Request) -> web.StreamResponse:
    return _file_response(PHONE_PAGE_DIR, request.match_info["name"])


@access(public=True)
async def _phone_redirect(request: web.Request) -> web.StreamResponse:
    return web.Response(status=302, headers={"Location": request.path + "/"})


def add_console_routes(app: web.Application) -> None:
    """Serve the console: `/` is the page, its files are under `/console/`."""
    app.router.add_get("/", _index, name="console-index")
    app.router.add_get(ALERT_SOUND_PATH, _alert_sound, name="console-alert")
    app.router.add_get(CONSOLE_PREFIX + "/{path:.+}", _console_file, name="console-file")


def add_phone_page_routes(
    app: web.Application, control_app: web.Application | None = None, prefix: str = "/sim"
) -> None:
    """Serve the customer phone page at `prefix`/ and, when given, the simulator's control API
    at `prefix`/api/ (the page calls it on the same origin). Only for a simulated modem: the
    control API lets anyone who can reach it text as any customer."""
    app.router.add_get(prefix, _phone_redirect)
    app.router.add_get(prefix + "/", _phone_page)
    app.router.add_get(prefix + "/{name:[A-Za-z0-9_.-]+}", _phone_asset)
    if control_app is not None:
        for route in control_app.router.routes():
            access(public=True)(route.handler)
        app.add_subapp(prefix + "/api/", control_app)
