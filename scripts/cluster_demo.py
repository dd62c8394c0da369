"""`make cluster-demo`: two gateway nodes, each with its own simulated network, on the local
PostgreSQL; prints where to log in, and runs until Ctrl+C.

The database `gateway_cluster_demo` (`--database NAME` for another) is created on the server
when missing and kept between runs (`--reset` starts it afresh). Each node's files go to
./cluster-demo/NODE/.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import urllib.request
from pathlib import Path

import asyncpg
import yaml
from sqlalchemy.engine import make_url

DATABASE = "gateway_cluster_demo"
NODES = (
    # name, HTTP port, simulator control port, its lines
    ("site-a", 8180, 8181, (("east-1", "+15550001001"), ("east-2", "+15550001002"))),
    ("site-b", 8190, 8191, (("west-1", "+15550002001"), ("west-2", "+15550002002"))),
)


async def ensure_database(server: str, name: str, reset: bool) -> str:
    admin_url = make_url(server).set(drivername="postgresql")
    admin = await asyncpg.connect(admin_url.render_as_string(hide_password=False))
    try:
        if reset:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return admin_url.set(database=name).render_as_string(hide_password=False)


def write_config(directory: Path, database: str, name: str, http: int, sim: int,
                 lines: tuple[tuple[str, str], ...]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    config = {
        "node": {"name": name},
        "database": database,
        "data_dir": str(directory / "data"),
        "http": {"listen": f"127.0.0.1:{http}"},
        "simulator": {"control": f"127.0.0.1:{sim}"},
        "modems": [{"name": line, "number": number, "simulator": True}
                   for line, number in lines],
        "logging": {"level": "warning"},
    }
    path = directory / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


async def wait_healthy(port: int, process: asyncio.subprocess.Process) -> None:
    async with asyncio.timeout(60):
        while process.returncode is None:
            with contextlib.suppress(OSError):
                url = f"http://127.0.0.1:{port}/healthz"
                ok = await asyncio.to_thread(lambda: urllib.request.urlopen(url, timeout=2).status)
                if ok == 200:
                    return
            await asyncio.sleep(0.3)
    raise SystemExit(f"a node stopped while starting (exit status {process.returncode})")


async def main(args: argparse.Namespace) -> int:
    database = await ensure_database(args.server, args.database, args.reset)
    base = Path(args.dir).absolute()
    processes: list[asyncio.subprocess.Process] = []
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        for index, (name, http, sim, lines) in enumerate(NODES):
            config = write_config(base / name, database, name, http, sim, lines)
            # The first node makes the demo accounts; the second finds them in the database.
            demo = ["--demo"] if index == 0 else []
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "gateway", "run", "--config", str(config), *demo,
                stdout=asyncio.subprocess.DEVNULL,
            )
            processes.append(process)
            await wait_healthy(http, process)
        print(f"Two gateway nodes share PostgreSQL database {args.database}:")
        for name, http, _sim, lines in NODES:
            print(f"  {name}: agent console http://127.0.0.1:{http}/   customer phone"
                  f" http://127.0.0.1:{http}/sim/   lines {', '.join(n for n, _ in lines)}")
        print("Log in on either node: agent / agent-demo, supervisor / supervisor-demo."
              " A text sent from one node's phone page can be answered from the other node's"
              " console; the reply leaves through the modem it came in on.")
        print("Stop with Ctrl+C.", flush=True)
        await stop.wait()
    finally:
        for process in processes:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            await process.wait()
    return 0


def _database_name(text: str) -> str:
    if not text or not all(ch.isalnum() or ch == "_" for ch in text) or len(text) > 63:
        raise argparse.ArgumentTypeError("letters, digits and _ only, at most 63")
    return text


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432/postgres",
                        help="a PostgreSQL URL to create the demo database with")
    parser.add_argument("--dir", default="cluster-demo", help="where the nodes keep their files")
    parser.add_argument("--database", default=DATABASE, type=_database_name,
                        help=f"the database to create and use (default {DATABASE})")
    parser.add_argument("--reset", action="store_true", help="start from an empty database")
    return parser.parse_args()


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
