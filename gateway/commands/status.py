"""`sms-gateway status`: the running daemon's lines, queues and oldest waiting request."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from gateway.commands.check_config import add_config_argument


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "status", help="show the running daemon's lines and queues"
    )
    add_config_argument(parser)
    parser.add_argument("--json", action="store_true", help="print the raw JSON")
    parser.set_defaults(func=run)


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
        every = cluster.get("lines", [])
        unheld = [line["name"] for line in every if line.get("node") is None]
        if every:
            out.append(f"cluster lines: {len(every) - len(unheld)}/{len(every)} held by a live node"
                       + (f"; DOWN (no node holds them): {', '.join(unheld)}" if unheld else ""))
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
    from gateway.config_source import read_data_dir
    from gateway.control import ControlError, call_daemon

    # Only data_dir is read to find the daemon's socket; the whole file is validated when no
    # daemon answers, so that a broken configuration is reported as such.
    data_dir = read_data_dir(args.config)
    problem: ControlError | None = None
    if data_dir is not None:
        try:
            status = call_daemon(data_dir, "GET", "/status")
        except ControlError as error:
            if error.reached:
                print(f"sms-gateway: the daemon did not give its status ({error})",
                      file=sys.stderr)
                return 1
            problem = error
        else:
            print(json.dumps(status, indent=2) if args.json else render(status))
            return 0
    from gateway.config import ConfigError, load_config

    try:
        load_config(args.config)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    print(f"sms-gateway: the daemon is not running ({problem})", file=sys.stderr)
    return 1
