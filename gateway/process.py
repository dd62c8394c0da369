"""The daemon as a process: it runs until SIGTERM or SIGINT, SIGHUP reloads config.yaml, and a
person starting it by hand (or `make run`, with the demo accounts) is told where to go."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from pathlib import Path

import structlog

from gateway.config import load_config
from gateway.config_errors import ConfigError
from gateway.daemon import Daemon
from gateway.log import configure_logging
from gateway.service.demo import DEMO_ACCOUNTS, published_demo_accounts

log = structlog.get_logger("gateway.daemon")


def print_welcome(daemon: Daemon, demo: bool) -> None:
    """What a person starting the daemon by hand needs first: where to go, how to log in."""
    lines = [f"sms-gateway is running. Agent console: {daemon.http_url}/"]
    if daemon.sim is not None:
        lines.append(f"Customer phone (simulated): {daemon.http_url}/sim/")
    if demo:
        lines.append("Demo accounts: " + ", ".join(
            f"{user} / {password} ({role})" for user, password, role in DEMO_ACCOUNTS
        ))
    lines.append("Stop with Ctrl+C.")
    print("\n".join(lines), flush=True)


def warn_demo_accounts(usernames: list[str]) -> None:
    """Loudly: anyone who read the README can log in as these."""
    names = ", ".join(usernames)
    log.warning("demo_accounts_with_published_passwords", users=usernames,
                action="sms-gateway user passwd NAME, or user disable NAME")
    print(
        f"WARNING: the demo accounts {names} still have their published passwords and anyone"
        " can log in with them. Change them (sms-gateway user passwd NAME) or disable them"
        " (sms-gateway user disable NAME).", file=sys.stderr, flush=True,
    )


async def run_daemon(config_path: Path | None, *, demo: bool = False) -> int:
    """Run until SIGTERM or SIGINT; SIGHUP reloads config.yaml."""
    config = load_config(config_path)
    configure_logging(config.logging)
    daemon = Daemon(config, demo_accounts=demo)
    stop = asyncio.Event()
    reload_wanted = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    loop.add_signal_handler(signal.SIGHUP, reload_wanted.set)

    async def reloader() -> None:
        while True:
            await reload_wanted.wait()
            reload_wanted.clear()
            try:
                new_config = load_config(config.source_path or config_path)
            except ConfigError as error:
                log.error("reload.refused", problems=[str(p) for p in error.problems])
                daemon.notifier.ready(daemon.status_summary() + " (reload refused)")
                continue
            configure_logging(new_config.logging)
            await daemon.reload(new_config)

    try:
        await daemon.start()
        assert daemon.workflow is not None
        if not demo and (left := await published_demo_accounts(daemon.workflow.accounts)):
            warn_demo_accounts(left)
        if sys.stdout.isatty() or demo:
            print_welcome(daemon, demo)
        reload_task = loop.create_task(reloader(), name="reloader")
        await stop.wait()
        log.info("daemon.stopping")
        reload_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reload_task
    finally:
        # Handlers stay installed while stopping: a second SIGTERM must not cut a send short.
        await daemon.stop()
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.remove_signal_handler(signum)
    return 0
