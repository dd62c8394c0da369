"""Serving an aiohttp application on host:port, over TLS when given a certificate and key."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from gateway.api.server import DEFAULT_HEADER_TIMEOUT_S, ApiRunner


class ListenError(Exception):
    """The HTTP server cannot take its address (in use, not an address of this host)."""


async def start_site(
    app: web.Application,
    host: str,
    port: int,
    *,
    tls_cert: Path | None = None,
    tls_key: Path | None = None,
    header_timeout_s: float = DEFAULT_HEADER_TIMEOUT_S,
) -> tuple[web.AppRunner, str]:
    """Start serving `app`; returns its runner (`cleanup()` stops it) and its base URL with
    the port actually bound (port 0 takes any free one). Slow clients are cut off and errors
    found before routing are JSON (gateway.api.server)."""
    runner = ApiRunner(app, header_timeout_s=header_timeout_s, access_log=None,
                       handle_signals=False)
    await runner.setup()
    ssl_context = None
    if tls_cert is not None and tls_key is not None:
        import ssl

        ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ssl_context.load_cert_chain(tls_cert, tls_key)
    try:
        await web.TCPSite(runner, host, port, ssl_context=ssl_context).start()
    except OSError as error:
        await runner.cleanup()
        raise ListenError(
            f"cannot listen on {host}:{port}: {error.strerror or error} (is another"
            " sms-gateway or another program using it? see http.listen)"
        ) from error
    except BaseException:
        await runner.cleanup()
        raise
    bound_host, bound_port = runner.addresses[0][:2]
    scheme = "https" if ssl_context else "http"
    return runner, f"{scheme}://{bound_host}:{bound_port}"
