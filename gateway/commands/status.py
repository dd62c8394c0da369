"""`sms-gateway status`: the running daemon's lines, queues and oldest waiting request."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import aiohttp

from gateway.config import load_config
from gateway.config_errors import ConfigError
from gateway.control import socket_path


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "status", help="show the running daemon's lines and queues"
    )
    parser.add_argument("--config", type=Path, default=None, help="config file")
    parser.add_argument("--json", action="store_true", help="print the raw JSON")
    parser.set_defaults(func=run)


async def fetch(path: Path, method: str, route: str) -> dict[str, Any]:
    connector = aiohttp.UnixConnector(path=str(path))
    async with aiohttp.ClientSession(connector=connector) as session, session.request(
        method, f"http://localhost{route}", timeout=aiohttp.ClientTimeout(total=10)
    ) as response:
        response.raise_for_status()
        result: dict[str, Any] = await response.json()
        return result


def render(status: dict[str, Any]) -> str:
    out = [status["summary"]]
    if status.get("http"):
        out.append(f"console: {status['http']}/")
    for line in status["lines"]:
        signal = line.get("signal_dbm")
        out.append(
            f"  {line['name']:<12} {line['status']:<12}"
            f" reg={line.get('registration', '-'):<14}"
            f" signal={'-' if signal is None else f'{signal} dBm':<9}"
            f" queued={line['queue_depth']}"
            + (f"  last error: {line['last_error']}" if line.get("last_error") else "")
        )
    cluster = status.get("cluster")
    if cluster:
        out.append(f"cluster: this is node {cluster['node']}"
                   + (", doing the cluster's duties" if cluster.get("duties") else ""))
        for node in cluster["nodes"]:
            state = "up" if node.get("alive") else "DOWN"
            out.append(f"  node {node['name']:<16} {state:<5} last heartbeat {node['last_seen']}"
                       f"  lines: {', '.join(node['lines']) or '-'}")
    for device in status.get("unknown_devices", []):
        out.append(f"  unknown device {device.get('device')}: {device.get('detail') or device}")
    oldest = status.get("oldest_request")
    if oldest:
        out.append(
            f"oldest waiting request: #{oldest['id']} from {oldest['phone']},"
            f" waiting {oldest['waiting_s']} s"
        )
    else:
        out.append("no request waiting")
    return "\n".join(out)


def run(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    path = socket_path(config.data_dir)
    try:
        status = asyncio.run(fetch(path, "GET", "/status"))
    except (OSError, aiohttp.ClientError) as error:
        print(f"sms-gateway: the daemon is not running (no answer on {path}: {error})",
              file=sys.stderr)
        return 1
    print(json.dumps(status, indent=2) if args.json else render(status))
    return 0
