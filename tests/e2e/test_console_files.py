"""How the console's files are served: right types, strict headers, nothing outside its folder,
nothing fetched from elsewhere, and a real WAV for the alert."""

from __future__ import annotations

import io
import re
import wave
from typing import Any

from aiohttp import web

from gateway.console import (
    ALERT_PERIOD_S,
    STATIC_DIR,
    add_console_routes,
    add_phone_page_routes,
    alert_wav,
)


def make_app() -> web.Application:
    app = web.Application()
    add_console_routes(app)
    control = web.Application()

    async def inbox(request: web.Request) -> web.Response:
        return web.json_response([{"msisdn": request.match_info["msisdn"]}])

    control.router.add_get("/handsets/{msisdn}/inbox", inbox)
    add_phone_page_routes(app, control)
    return app


async def test_console_page_and_modules_are_served_with_strict_headers(
    aiohttp_client: Any,
) -> None:
    client = await aiohttp_client(make_app())
    page = await client.get("/")
    assert page.status == 200
    assert page.headers["Content-Type"].startswith("text/html")
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    html = await page.text()
    for src in re.findall(r'(?:src|href)="(/console/[^"]+)"', html):
        response = await client.get(src)
        assert response.status == 200, src
    module = await client.get("/console/js/main.js")
    assert module.headers["Content-Type"].startswith("text/javascript")


async def test_nothing_outside_the_console_folder_is_served(aiohttp_client: Any) -> None:
    client = await aiohttp_client(make_app())
    for path in ("/console/__init__.py", "/console/../api/app.py", "/console/%2e%2e/cli.py",
                 "/console/js/../../__init__.py", "/console/missing.js", "/sim/..%2fapp.css"):
        response = await client.get(path)
        assert response.status == 404, path


async def test_phone_page_and_simulator_api_share_the_prefix(aiohttp_client: Any) -> None:
    client = await aiohttp_client(make_app())
    redirect = await client.get("/sim", allow_redirects=False)
    assert redirect.status == 302
    assert redirect.headers["Location"] == "/sim/"
    page = await client.get("/sim/")
    assert "Customer phone" in await page.text()
    script = await client.get("/sim/phone.js")
    assert script.status == 200
    inbox = await client.get("/sim/api/handsets/+15551234567/inbox")
    assert await inbox.json() == [{"msisdn": "+15551234567"}]


async def test_alert_sound_is_a_wav_of_one_ring_period(aiohttp_client: Any) -> None:
    client = await aiohttp_client(make_app())
    response = await client.get("/console/alert.wav")
    assert response.headers["Content-Type"] == "audio/wav"
    body = await response.read()
    assert body == alert_wav()
    with wave.open(io.BytesIO(body)) as wav:
        assert wav.getnchannels() == 1
        seconds = wav.getnframes() / wav.getframerate()
        frames = wav.readframes(wav.getnframes())
    assert abs(seconds - ALERT_PERIOD_S) < 0.01
    assert max(frames) > 0  # not silence


def test_console_fetches_nothing_from_other_sites() -> None:
    remote = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//|url\(\s*["']?(?:https?:)?//"""
                        r"""|@import|fetch\(\s*["'`]https?:|new WebSocket\(\s*["'`]wss?:""")
    files = [p for p in STATIC_DIR.rglob("*") if p.suffix in (".html", ".js", ".css")]
    assert len(files) > 10
    offenders = [str(p.relative_to(STATIC_DIR)) for p in files if remote.search(p.read_text())]
    assert offenders == []


def test_message_text_never_reaches_an_html_parser() -> None:
    sinks = re.compile(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|"
                       r"new Function|createContextualFragment|DOMParser")
    files = [p for p in STATIC_DIR.rglob("*.js")]
    offenders = [f"{p.name}: {m.group(0)}" for p in files for m in sinks.finditer(p.read_text())]
    assert offenders == []
