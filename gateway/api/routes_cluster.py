"""GET /api/cluster: the gateway hosts sharing this database, their heartbeat and their lines."""

from __future__ import annotations

from aiohttp import web

from gateway.api.auth import access, principal
from gateway.api.keys import CONFIG, WORKFLOW
from gateway.config_sections import DEFAULT_LEASE_TTL_S

routes = web.RouteTableDef()


@routes.get("/api/cluster")
@access(role="supervisor", scope="supervise")
async def cluster(request: web.Request) -> web.Response:
    """Every node that joined the cluster; a lone daemon (no `node:` in config.yaml) lists none."""
    node = request.app[CONFIG].node
    ttl_s = node.lease_ttl_s if node is not None else DEFAULT_LEASE_TTL_S
    nodes = await request.app[WORKFLOW].lines.cluster_nodes(principal(request), ttl_s)
    return web.json_response({"nodes": [
        {"name": n.name, "last_seen": n.last_seen.isoformat(), "lines": list(n.lines),
         "alive": n.alive, "http": n.http_url}
        for n in nodes
    ]})
