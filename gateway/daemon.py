"""The composition root: builds every part from the configuration and owns start-up and
shutdown order.

Start: store (migrated) -> parts left `sending` marked unknown -> simulated network (if any
modem is simulated) -> lines -> pipeline -> HTTP server -> modems -> READY=1.
Stop: the reverse; senders finish the part in flight, and modems close after them.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import structlog
from aiohttp import web

from gateway.bus import EventBus
from gateway.config import Config
from gateway.config_sections import LineConfig, ModemConfig
from gateway.control import ControlServer, create_control_app, socket_path
from gateway.discovery import AutoModems
from gateway.modem import LineState, ModemSettings, ModemSupervisor, Opener
from gateway.notify import SystemdNotifier
from gateway.pipeline import InboundHandler, LineSender, Publisher
from gateway.pipeline.lines import LineBoard, line_details
from gateway.sim.modem import SimModem
from gateway.sim.network import SimNetwork
from gateway.sim.transport import PtyPort, open_in_memory, open_pty
from gateway.store import Store, StoreError

log = structlog.get_logger("gateway.daemon")

SimTransport = Literal["pty", "memory"]

# How long a sender with nothing due sleeps before looking again (it is woken on every Send).
SENDER_IDLE_CHECK_S = 30.0
# How often the supervised background tasks may restart after a failure.
TASK_RESTART_INITIAL_S = 1.0
TASK_RESTART_MAX_S = 60.0
STATUS_INTERVAL_S = 10.0
# `sms-gateway run --demo` (what `make run` does) makes these when they do not exist yet.
DEMO_ACCOUNTS = (("agent", "agent-demo", "agent"), ("supervisor", "supervisor-demo", "supervisor"))


def utc_now() -> datetime:
    return datetime.now(UTC)


def modem_settings(modem: ModemConfig, config: Config, device: str) -> ModemSettings:
    driver = config.driver
    return ModemSettings(
        name=modem.name,
        device=device,
        pin=modem.pin,
        profile=None if modem.profile == "auto" else modem.profile,
        baud=modem.baud,
        smsc=modem.smsc,
        command_timeout_s=driver.command_timeout_s,
        send_timeout_s=driver.send_timeout_s,
        health_poll_interval_s=driver.health_poll_interval_s,
        silence_timeout_s=driver.silence_timeout_s,
        min_send_interval_s=modem.min_send_interval_s,
        reconnect_initial_s=driver.reconnect_backoff_initial_s,
        reconnect_max_s=driver.reconnect_backoff_max_s,
        busy_retry_window_s=driver.sim_busy_timeout_s,
    )


def _sim_identity(number: str) -> tuple[str, str]:
    """A stable IMSI and ICCID for a simulated line, so it is recognised across restarts."""
    digits = int(hashlib.sha256(number.encode()).hexdigest(), 16)
    return f"00101{digits % 10**10:010d}", f"8901260{digits % 10**12:012d}"


class SimulatedNetwork:
    """The in-process simulated network for `simulator: true` modems, on real ptys (or, for
    fast tests, on in-memory transports)."""

    def __init__(self, config: Config, transport: SimTransport = "pty") -> None:
        self.transport = transport
        self.network = SimNetwork()
        self.directory = config.data_dir / "sim"
        self.profile = config.simulator.profile
        self.ports: dict[str, PtyPort] = {}
        self.modems: dict[str, SimModem] = {}

    async def add(self, modem: ModemConfig) -> str:
        imsi, iccid = _sim_identity(modem.number)
        profile = self.profile if modem.profile == "auto" else modem.profile
        sim_modem = SimModem(modem.name, modem.number, profile, imsi=imsi, iccid=iccid,
                             pin=modem.pin)
        self.network.attach(sim_modem)
        self.modems[modem.name] = sim_modem
        if self.transport == "memory":
            return f"memory:{modem.name}"
        self.directory.mkdir(parents=True, exist_ok=True)
        port = await open_pty(sim_modem, self.directory)
        self.ports[modem.name] = port
        return str(port.path)

    async def remove(self, name: str) -> None:
        port = self.ports.pop(name, None)
        if port is not None:
            port.close()
        sim_modem = self.modems.pop(name, None)
        if sim_modem is not None:
            self.network.detach(sim_modem)
            sim_modem.close()  # its timers (URCs, registration) end with it

    async def close(self) -> None:
        for name in list(self.ports):
            await self.remove(name)
        await self.network.aclose()


class Daemon:
    def __init__(
        self,
        config: Config,
        *,
        clock: Callable[[], datetime] = utc_now,
        notifier: SystemdNotifier | None = None,
        sim_transport: SimTransport = "pty",
    ) -> None:
        self.config = config
        self.sim_transport: SimTransport = sim_transport
        self.clock = clock
        self.notifier = notifier or SystemdNotifier()
        self.bus = EventBus()
        self.publisher = Publisher(self.bus)
        self.store: Store | None = None
        self.sim: SimulatedNetwork | None = None
        self.line_ids: dict[str, int] = {}
        self.board: LineBoard | None = None
        self.inbound: InboundHandler | None = None
        self.supervisors: dict[str, ModemSupervisor] = {}
        self.senders: dict[str, LineSender] = {}
        self._sender_tasks: dict[str, asyncio.Task[None]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._web: web.AppRunner | None = None
        self._control: ControlServer | None = None
        self._sim_web: web.AppRunner | None = None
        self.http_url: str | None = None
        self.sim_control_url: str | None = None
        self.app: web.Application | None = None
        self.auto: AutoModems | None = None
        self._failover_timers: dict[str, asyncio.TimerHandle] = {}

    # start-up -------------------------------------------------------------------------------

    async def start(self) -> None:
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        config = self.config
        config.data_dir.mkdir(parents=True, exist_ok=True)
        self.store = store = await Store.open(
            config.database_url, default_region=config.default_region
        )
        unknown = await store.outbound.mark_sending_as_unknown_on_start(now=self.clock())
        if unknown:
            log.warning("outbound.unknown_after_restart", parts=[u.part.id for u in unknown])
        self.publisher.publish(u.event for u in unknown)

        if any(m.simulator for m in config.modem_list):
            self.sim = SimulatedNetwork(config, self.sim_transport)
        for line_config in config.line_list:
            # With `modems: auto` the lines exist (shown down) before their modem turns up.
            line = await store.lines.ensure(line_config.name, line_config.number, now=self.clock())
            self.line_ids[line_config.name] = line.id
        self.board = LineBoard(store, self.publisher, self.line_ids)
        self.board.listen(self._on_line_state)
        self.inbound = InboundHandler(
            store,
            self.publisher,
            self.line_ids,
            reassembly_timeout_s=config.inbound.reassembly_timeout_s,
            report_window_s=config.sending.status_report_window_s,
            clock=self.clock,
        )
        self._spawn("partial-release", self.inbound.run_release_loop)

        self._control = ControlServer(
            socket_path(config.data_dir), create_control_app(self.status, self.wake_outbound)
        )
        await self._control.start()
        self.app = self.build_app()
        await self._start_http()
        if self.sim is not None:
            await self._start_sim_control()
        for modem in config.modem_list:
            await self._add_modem(modem)
        if config.modems_auto:
            await self._start_auto(config)
        self.notifier.ready(self.status_summary())
        self._spawn("status", self._status_loop)
        log.info("daemon.ready", http=self.http_url, simulator=self.sim_control_url,
                 lines=list(self.line_ids))

    def build_app(self) -> web.Application:
        """The HTTP application: the agent API, the console, and with a simulated modem the
        demo's customer phone page at /sim with the simulator's control API under /sim/api."""
        from gateway.api.app import create_app
        from gateway.console import add_console_routes, add_phone_page_routes

        assert self.store is not None
        app = create_app(
            store=self.store, bus=self.bus, config=self.config,
            wake_outbound=self.wake_outbound, clock=self.clock,
        )
        add_console_routes(app)
        if self.sim is not None:
            from gateway.sim.control import create_control_app as create_sim_control_app

            add_phone_page_routes(app, create_sim_control_app(self.sim.network))
        return app

    async def _start_http(self) -> None:
        assert self.app is not None
        http = self.config.http
        self._web = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await self._web.setup()
        ssl_context = None
        if http.tls_cert is not None and http.tls_key is not None:
            import ssl

            ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ssl_context.load_cert_chain(http.tls_cert, http.tls_key)
        site = web.TCPSite(self._web, http.host, http.port, ssl_context=ssl_context)
        await site.start()
        host, port = self._web.addresses[0][:2]
        scheme = "https" if ssl_context else "http"
        self.http_url = f"{scheme}://{host}:{port}"

    async def _start_sim_control(self) -> None:
        from gateway.sim.control import create_control_app

        assert self.sim is not None
        sim_config = self.config.simulator
        self._sim_web = web.AppRunner(create_control_app(self.sim.network), access_log=None,
                                      handle_signals=False)
        await self._sim_web.setup()
        await web.TCPSite(self._sim_web, sim_config.host, sim_config.port).start()
        host, port = self._sim_web.addresses[0][:2]
        self.sim_control_url = f"http://{host}:{port}"

    async def _add_modem(self, modem: ModemConfig) -> None:
        assert self.store is not None
        assert self.board is not None
        assert self.inbound is not None
        opener: Opener | None = None
        if modem.simulator:
            assert self.sim is not None
            device = await self.sim.add(modem)
            if self.sim.transport == "memory":
                opener = functools.partial(open_in_memory, self.sim.modems[modem.name])
        else:
            assert modem.device is not None
            device = str(modem.device)
        if modem.name not in self.line_ids:
            line = await self.store.lines.ensure(modem.name, modem.number, now=self.clock())
            self.line_ids[modem.name] = line.id
        supervisor = ModemSupervisor(
            modem_settings(modem, self.config, device),
            inbound_sink=self.inbound.sink,
            report_sink=self.inbound.report_sink,
            on_state=self.board.on_state,
            opener=opener,
        )
        self.supervisors[modem.name] = supervisor
        board = self.board
        sending = self.config.sending
        sender = LineSender(
            line_id=self.line_ids[modem.name],
            line_name=modem.name,
            store=self.store,
            publisher=self.publisher,
            send_part=supervisor.send_part,
            can_send=lambda: board.can_send(modem.name),
            retry_limit=sending.retry_limit,
            retry_backoff_s=sending.retry_backoff_s,
            retry_backoff_max_s=sending.retry_backoff_max_s,
            idle_check_s=SENDER_IDLE_CHECK_S,
            clock=self.clock,
        )
        self.senders[modem.name] = sender
        self._sender_tasks[modem.name] = self._spawn(f"sender-{modem.name}", sender.run)
        await supervisor.start()

    async def _remove_modem(self, name: str) -> None:
        sender = self.senders.pop(name, None)
        task = self._sender_tasks.pop(name, None)
        if sender is not None:
            sender.stop()
        if task is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.config.driver.send_timeout_s):
                    await asyncio.shield(task)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            if task in self._tasks:
                self._tasks.remove(task)
        supervisor = self.supervisors.pop(name, None)
        if supervisor is not None:
            await supervisor.stop()
        if self.sim is not None:
            await self.sim.remove(name)

    async def _start_auto(self, config: Config) -> None:
        from gateway.discovery import AutoModems

        self.auto = AutoModems.from_config(
            config, on_match=self._auto_match, on_lost=self._auto_lost
        )
        await self.auto.start()

    async def _auto_match(self, line: LineConfig, device: str) -> None:
        from gateway.discovery import modem_config_for

        log.info("auto.modem_found", line=line.name, device=device)
        await self._add_modem(modem_config_for(line, device))

    async def _auto_lost(self, device: str) -> None:
        for name, supervisor in list(self.supervisors.items()):
            if supervisor.settings.device == device:
                log.info("auto.modem_gone", line=name, device=device)
                await self._remove_modem(name)

    def _on_line_state(self, state: LineState) -> None:
        sender = self.senders.get(state.name)
        if sender is not None and state.can_send:
            sender.wake()
        if self.config.sending.failover != "other_line":
            return
        timer = self._failover_timers.get(state.name)
        if state.can_send or sender is None:
            if timer is not None:
                timer.cancel()
                del self._failover_timers[state.name]
        elif timer is None:
            self._arm_failover(state.name)

    def _arm_failover(self, name: str) -> None:
        def due() -> None:
            self._failover_timers.pop(name, None)
            self._spawn(f"failover-{name}", lambda: self._fail_over(name), restart=False)

        self._failover_timers[name] = asyncio.get_running_loop().call_later(
            self.config.sending.failover_after_s, due
        )

    async def _fail_over(self, name: str) -> None:
        """Move the unsent replies of a line that has not been able to send for a while."""
        assert self.store is not None
        assert self.board is not None
        if self.board.can_send(name) or name not in self.senders:
            return
        target = next((n for n in self.senders if n != name and self.board.can_send(n)), None)
        if target is not None:
            events = await self.store.failover.move_unsent(
                self.line_ids[name], self.line_ids[target], now=self.clock()
            )
            self.publisher.publish(events)
            if events:
                log.warning("failover.moved", from_line=name, to_line=target,
                            messages=[e.data.get("id") for e in events])
                self.senders[target].wake()
        self._arm_failover(name)  # replies queued meanwhile move at the next check

    def wake_outbound(self) -> None:
        """A part was queued: every sender looks at its queue (cheap; each checks its line)."""
        for sender in self.senders.values():
            sender.wake()

    async def reload(self, config: Config) -> None:
        """Apply a re-read config.yaml: modems added, removed or changed are brought in line;
        the others, the HTTP server and every agent session stay as they are."""
        self.notifier.reloading("reloading config.yaml")
        old = {m.name: m for m in self.config.modem_list}
        new = {m.name: m for m in config.modem_list}
        kept_settings = ("http", "database", "data_dir", "simulator")
        for key in kept_settings:
            if getattr(self.config, key) != getattr(config, key):
                log.warning("reload.needs_restart", setting=key)
                config = config.model_copy(update={key: getattr(self.config, key)})
        if self.store is not None:
            for line_config in config.line_list:
                if line_config.name not in self.line_ids:
                    line = await self.store.lines.ensure(line_config.name, line_config.number)
                    self.line_ids[line_config.name] = line.id
        if self.config.modems_auto != config.modems_auto or (
            config.modems_auto and self.config.discovery != config.discovery
        ):
            log.warning("reload.needs_restart", setting="modems: auto / discovery")
        elif self.auto is not None:
            await self.auto.update_lines(config.lines)
        if self.sim is None and any(m.simulator for m in new.values()):
            self.sim = SimulatedNetwork(config, self.sim_transport)
        self.config = config
        for name in old.keys() - new.keys():
            log.info("reload.modem_removed", line=name)
            await self._remove_modem(name)
        for name in sorted(old.keys() & new.keys()):
            if old[name] != new[name]:
                log.info("reload.modem_changed", line=name)
                await self._remove_modem(name)
                await self._add_modem(new[name])
        for name in sorted(new.keys() - old.keys()):
            log.info("reload.modem_added", line=name)
            await self._add_modem(new[name])
        self.notifier.ready(self.status_summary())

    async def ensure_demo_accounts(self) -> list[tuple[str, str, str]]:
        """The demo's accounts (created only when missing): (username, password, role)."""
        from gateway.api.keys import WORKFLOW
        from gateway.service.errors import ConflictError

        assert self.app is not None
        accounts = self.app[WORKFLOW].accounts
        created = []
        for username, password, role in DEMO_ACCOUNTS:
            try:
                await accounts.add_user(username, role, password)
            except ConflictError:
                continue  # kept as the admin left it (the password may have been changed)
            created.append((username, password, role))
        return created

    # running --------------------------------------------------------------------------------

    def _spawn(
        self, name: str, body: Callable[[], Awaitable[None]], *, restart: bool = True
    ) -> asyncio.Task[None]:
        async def supervised() -> None:
            delay = TASK_RESTART_INITIAL_S
            while True:
                try:
                    await body()
                    return
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("task.failed", task=name, restart_in_s=delay)
                    if not restart:
                        return
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, TASK_RESTART_MAX_S)

        task = asyncio.get_running_loop().create_task(supervised(), name=name)
        self._tasks.append(task)
        if not restart:
            task.add_done_callback(self._forget_task)
        return task

    def _forget_task(self, task: asyncio.Task[None]) -> None:
        if task in self._tasks:
            self._tasks.remove(task)

    def line_summary(self) -> list[dict[str, object]]:
        board = self.board
        out: list[dict[str, object]] = []
        for name in self.line_ids:
            state = board.state(name) if board is not None else None
            out.append({"name": name, "status": state.status if state else "down",
                        "can_send": bool(state and state.can_send)})
        return out

    def status_summary(self) -> str:
        lines = self.line_summary()
        up = sum(1 for line in lines if line["can_send"])
        return f"{up}/{len(lines)} lines up"

    async def status(self) -> dict[str, Any]:
        """What `sms-gateway status` shows: lines, queues, the oldest waiting request."""
        assert self.store is not None
        store = self.store
        lines: list[dict[str, Any]] = []
        for name, line_id in self.line_ids.items():
            state = self.board.state(name) if self.board is not None else None
            lines.append({
                "name": name,
                **(line_details(state) if state is not None else {"status": "down"}),
                "queue_depth": await store.outbound.queue_depth(line_id),
            })
        pending = await store.requests.pending(limit=1)
        oldest = pending[0] if pending else None
        return {
            "unknown_devices": [] if self.auto is None else [
                u.as_dict() for u in self.auto.unknown_devices.values()
            ],
            "summary": self.status_summary(),
            "http": self.http_url,
            "simulator": self.sim_control_url,
            "lines": lines,
            "oldest_request": None if oldest is None else {
                "id": oldest.id, "phone": oldest.phone,
                "created_at": oldest.created_at.isoformat(),
                "waiting_s": round((self.clock() - oldest.created_at).total_seconds()),
            },
        }

    async def _status_loop(self) -> None:
        interval = self.notifier_interval_s()
        while True:
            summary = self.status_summary()
            if self.store is not None:
                with contextlib.suppress(StoreError):
                    queued = 0
                    for line_id in self.line_ids.values():
                        queued += await self.store.outbound.queue_depth(line_id)
                    summary += f", {queued} queued"
            self.notifier.status(summary)
            self.notifier.watchdog()
            await asyncio.sleep(interval)

    def notifier_interval_s(self) -> float:
        from gateway.notify import watchdog_interval_s

        watchdog = watchdog_interval_s()
        return min(STATUS_INTERVAL_S, watchdog / 2) if watchdog else STATUS_INTERVAL_S

    # shutdown -------------------------------------------------------------------------------

    async def stop(self) -> None:
        self.notifier.stopping()
        if self.auto is not None:
            await self.auto.stop()  # nothing new is brought up while stopping
            self.auto = None
        for timer in self._failover_timers.values():
            timer.cancel()
        self._failover_timers.clear()
        if self._web is not None:
            await self._web.cleanup()
            self._web = None
        if self._control is not None:
            await self._control.stop()
            self._control = None
        for name in list(self.senders):
            await self._remove_modem(name)
        for name in list(self.supervisors):
            await self._remove_modem(name)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self.board is not None:
            await self.board.close()
        if self._sim_web is not None:
            await self._sim_web.cleanup()
            self._sim_web = None
        if self.sim is not None:
            await self.sim.close()
            self.sim = None
        if self.store is not None:
            await self.store.close()
            self.store = None


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


async def run_daemon(config_path: Path | None, *, demo: bool = False) -> int:
    """Run until SIGTERM or SIGINT; SIGHUP reloads config.yaml."""
    import signal

    from gateway.config import load_config
    from gateway.config_errors import ConfigError
    from gateway.log import configure_logging

    config = load_config(config_path)
    configure_logging(config.logging)
    daemon = Daemon(config)
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
        if demo:
            await daemon.ensure_demo_accounts()
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
