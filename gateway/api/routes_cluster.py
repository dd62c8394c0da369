"""GET /api/cluster: the gateway hosts sharing this database, their heartbeat and their lines."""

from __future__ import annotations

from aiohttp import web

from gateway.api.auth import access
from gateway.api.keys import CONFIG, STORE
from gateway.config_sections import NodeConfig
from gateway.store.lease import LeaseRepository

routes = web.RouteTableDef()


@routes.get("/api/cluster")
@access(role="supervisor", scope="supervise")
async def cluster(request: web.Request) -> web.Response:
    """Every node that ever joined, newest heartbeat first known; a lone daemon (no `node:`
    in config.yaml) lists none."""
    store = request.app[STORE]
    if store.db.is_sqlite:
        return web.json_response({"nodes": []})
    node = request.app[CONFIG].node
    ttl_s = (node or NodeConfig(name="x")).lease_ttl_s
    nodes = await LeaseRepository(store.db).nodes(ttl_s)
    return web.json_response({"nodes": [
        {"name": n.name, "last_seen": n.last_seen.isoformat(), "lines": list(n.lines),
         "alive": n.alive, "http": n.http_url}
        for n in nodes
    ]})
