"""The composition root: builds every part from the configuration, in order, and owns start-up
and shutdown order. Policies live in their layers (failover and status in gateway.pipeline,
reload diffing in gateway.config_reload, task restarts in gateway.tasks, systemd reporting in
gateway.notify, the in-process simulator in gateway.sim.inprocess); gateway.process runs it as
a process (signals, reload on SIGHUP, the warning about demo accounts left with their
published passwords).

Start: hold on data_dir -> store (migrated) -> parts left `sending` marked unknown ->
simulated network (if any modem is simulated) -> lines -> pipeline -> service -> control
socket -> HTTP server -> simulator control -> modems (and discovery) -> READY=1.
Stop: the reverse; senders finish the part in flight, and modems close after them.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import structlog
from aiohttp import web

from gateway.api.site import start_site
from gateway.bus import EventBus
from gateway.config import Config
from gateway.config_reload import plan_reload
from gateway.config_sections import LineConfig, ModemConfig, SmppLineConfig
from gateway.control import ControlServer, create_control_app, socket_path
from gateway.datadir import DataDirHold
from gateway.discovery import AutoModems
from gateway.modem import ModemSupervisor, Opener
from gateway.modem.model import LineState
from gateway.notify import SystemdNotifier, report_status, status_interval_s, watchdog_interval_s
from gateway.pipeline import InboundHandler, LineSender, Publisher
from gateway.pipeline.failover import Failover
from gateway.pipeline.lines import LineBoard
from gateway.pipeline.modems import modem_settings
from gateway.pipeline.smpp_lines import SmppLines
from gateway.pipeline.status import StatusReport
from gateway.service.admin_send import AdminSend
from gateway.service.demo import ensure_demo_accounts
from gateway.service.workflow import Workflow
from gateway.sim.inprocess import InProcessSimulator, SimTransport
from gateway.sim.smsc import SimSmsc
from gateway.sim.transport import open_in_memory
from gateway.store import Store
from gateway.store.files import private_folder
from gateway.tasks import TaskRunner

if TYPE_CHECKING:
    from gateway.cluster import ClusterMember
    from gateway.cluster.duties import ClusterDuties

log = structlog.get_logger("gateway.daemon")


def utc_now() -> datetime:
    return datetime.now(UTC)


class Daemon:
    def __init__(
        self,
        config: Config,
        *,
        clock: Callable[[], datetime] = utc_now,
        notifier: SystemdNotifier | None = None,
        sim_transport: SimTransport = "pty",
        demo_accounts: bool = False,
    ) -> None:
        self.config = config
        self.demo_accounts = demo_accounts
        self.sim_transport: SimTransport = sim_transport
        self.clock = clock
        self.notifier = notifier or SystemdNotifier()
        self.bus = EventBus()
        if config.node is not None:
            from gateway.cluster import ClusterBus

            self.bus = ClusterBus()
        self.cluster: ClusterMember | None = None
        self.duties: ClusterDuties | None = None
        self.publisher = Publisher(self.bus)
        self.tasks = TaskRunner()
        self.store: Store | None = None
        self.sim: InProcessSimulator | None = None
        self.line_ids: dict[str, int] = {}
        self.board: LineBoard | None = None
        self.failover: Failover | None = None
        self.inbound: InboundHandler | None = None
        self.report: StatusReport | None = None
        self.workflow: Workflow | None = None
        self.supervisors: dict[str, ModemSupervisor] = {}
        self.senders: dict[str, LineSender] = {}
        self._sender_tasks: dict[str, asyncio.Task[None]] = {}
        self._web: web.AppRunner | None = None
        self._control: ControlServer | None = None
        self._sim_web: web.AppRunner | None = None
        self.http_url: str | None = None
        self.sim_control_url: str | None = None
        self.app: web.Application | None = None
        self.auto: AutoModems | None = None
        self.smpp: SmppLines | None = None
        self._smscs: list[SimSmsc] = []
        self._hold = DataDirHold(config.data_dir)

    # start-up -------------------------------------------------------------------------------

    async def start(self) -> None:
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        """The start-up order; each step only uses what the steps before it built."""
        self._hold.acquire()  # before the store: see gateway.datadir
        await self._open_store()
        if any(m.simulator for m in self.config.modem_list) or any(
            s.simulator for s in self.config.smpp
        ):
            self.sim = self._simulator(self.config)
        # With `modems: auto` the lines exist (shown down) before their modem turns up.
        await self._ensure_lines((*self.config.line_list, *self.config.smpp))
        self._build_pipeline()
        await self._start_service()
        await self._start_servers()
        await self._start_modems()
        await self._start_smpp()
        self.notifier.ready(self.status_summary())
        report = self.report
        assert report is not None
        interval_s = status_interval_s(watchdog_interval_s())
        self.tasks.spawn(
            "status", lambda: report_status(self.notifier, report.summary_with_queue, interval_s)
        )
        log.info("daemon.ready", http=self.http_url, simulator=self.sim_control_url,
                 lines=list(self.line_ids))

    async def _open_store(self) -> None:
        """The store, migrated; parts a crash left `sending` become `unknown` (never resent)."""
        config = self.config
        private_folder(config.data_dir)  # 0750 whatever the umask: it holds the database
        if config.node is not None:
            from gateway.cluster import check_listen

            await check_listen(config.database_url)  # before anything else: see SCALING.md
        self.store = store = await Store.open(
            config.database_url, default_region=config.default_region
        )
        if config.node is not None:
            await self._start_cluster(store)  # parts left sending: see ClusterMember
        else:
            unknown = await store.outbound.mark_sending_as_unknown_on_start(now=self.clock())
            if unknown:
                log.warning("outbound.unknown_after_restart", parts=[u.part.id for u in unknown])
            self.publisher.publish(u.event for u in unknown)

    def _build_pipeline(self) -> None:
        """Line board, failover, inbound handler (and its partial-message release), status."""
        assert self.store is not None
        config, store = self.config, self.store
        self.board = board = LineBoard(store, self.publisher, self.line_ids)
        self.failover = Failover(
            store=store, publisher=self.publisher, board=board, line_ids=self.line_ids,
            senders=self.senders, sending=config.sending, clock=self.clock,
            spawn=lambda name, body: self.tasks.spawn(name, body, restart=False),
        )
        board.listen(self._wake_sender)
        board.listen(self.failover.on_state)
        self.inbound = InboundHandler(
            store, self.publisher, self.line_ids,
            reassembly_timeout_s=config.inbound.reassembly_timeout_s,
            report_window_s=config.sending.status_report_window_s,
            clock=self.clock,
            quarantine_after_attempts=config.inbound.quarantine_after_attempts,
        )
        self.tasks.spawn("partial-release", self.inbound.run_release_loop)
        self.report = StatusReport(store, board, self.line_ids, self.clock)

    async def _start_service(self) -> None:
        """The agents' workflow: routing (with the sweep of texts left unrouted), webhooks."""
        assert self.store is not None
        self.workflow = Workflow.from_config(
            # In a cluster the node holding the duties sends the webhooks (see ClusterDuties).
            self.config if self.duties is None else self.duties.service_config,
            store=self.store, bus=self.bus, clock=self.clock, wake_outbound=self.wake_outbound,
        )
        if self.duties is not None:
            self.duties.attach(self.workflow)
        if self.cluster is not None:
            self.cluster.attach_presence(self.workflow.presence)
        await self.workflow.start()
        if self.demo_accounts:  # before the HTTP server: a console can log in once it answers
            await ensure_demo_accounts(self.workflow.accounts)

    async def _start_servers(self) -> None:
        """The control socket, the HTTP server over the running service, the simulator's API."""
        assert self.workflow is not None
        config = self.config
        workflow = self.workflow
        admin_send = AdminSend(
            store=workflow.store, publisher=workflow.publisher, settings=workflow.settings,
            clock=self.clock, wake_outbound=self.wake_outbound, lines=self.line_ids,
        )
        self._control = ControlServer(
            socket_path(config.data_dir), create_control_app(
                self.status, self.wake_outbound,
                login_limits=lambda: self.workflow.accounts if self.workflow else None,
                admin_send=admin_send,
            )
        )
        await self._control.start()
        self.app = self.build_app(self.workflow)
        http = config.http
        self._web, self.http_url = await start_site(
            self.app, http.host, http.port, tls_cert=http.tls_cert, tls_key=http.tls_key,
            header_timeout_s=http.header_timeout_s,
        )
        if self.cluster is not None:
            self.cluster.http_url = self.http_url
        if self.sim is not None:
            from gateway.sim.control import create_control_app as create_sim_control_app

            self._sim_web, self.sim_control_url = await start_site(
                create_sim_control_app(self.sim.network),
                config.simulator.host, config.simulator.port,
            )

    async def _start_modems(self) -> None:
        """A supervisor and a sender per configured modem; with `modems: auto`, discovery."""
        for modem in self.config.modem_list:
            await self._add_modem(modem)
        if self.config.modems_auto:
            self.auto = AutoModems.from_config(
                self.config, on_match=self._auto_match, on_lost=self._auto_lost
            )
            await self.auto.start()

    def _simulator(self, config: Config) -> InProcessSimulator:
        sim = config.simulator
        return InProcessSimulator(
            config.data_dir / "sim", profile=sim.profile, transport=self.sim_transport,
            delivery_delay_s=sim.delivery_delay_s, status_report_delay_s=sim.status_report_delay_s,
        )

    async def _ensure_lines(self, lines: Sequence[LineConfig | SmppLineConfig]) -> None:
        assert self.store is not None
        for line_config in lines:
            if line_config.name not in self.line_ids:
                line = await self.store.lines.ensure(
                    line_config.name, line_config.number, now=self.clock()
                )
                self.line_ids[line_config.name] = line.id

    async def _start_cluster(self, store: Store) -> None:
        from gateway.cluster import ClusterBus, ClusterMember
        from gateway.cluster.duties import ClusterDuties

        assert isinstance(self.bus, ClusterBus)
        self.duties = ClusterDuties(self.config, store, self.bus, self.clock)
        self.cluster = ClusterMember(self.config, store, self.bus, self.publisher,
                                     on_duties=self.duties.set_held)
        await self.cluster.start()

    def build_app(self, workflow: Workflow) -> web.Application:
        """The HTTP application over the running workflow: the agent API, the console, and with
        a simulated modem the demo's customer phone page at /sim (control API under /sim/api)."""
        from gateway.api.app import create_app
        from gateway.console import add_console_routes, add_phone_page_routes

        app = create_app(workflow=workflow, config=self.config)

        add_console_routes(app)
        if self.sim is not None:
            from gateway.sim.control import create_control_app as create_sim_control_app

            add_phone_page_routes(app, create_sim_control_app(self.sim.network))
        return app

    # modems -----------------------------------------------------------------------------------

    async def _add_modem(self, modem: ModemConfig) -> None:
        """One supervisor and one sender for a configured (or discovered) modem."""
        assert self.store is not None
        assert self.board is not None
        assert self.inbound is not None
        opener: Opener | None = None
        if modem.simulator:
            assert self.sim is not None
            device = await self.sim.add(
                modem.name, modem.number, pin=modem.pin,
                profile=None if modem.profile == "auto" else modem.profile,
            )
            if self.sim.transport == "memory":
                opener = functools.partial(open_in_memory, self.sim.modems[modem.name])
        else:
            assert modem.device is not None
            device = str(modem.device)
        await self._ensure_lines((modem,))
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
        line_id = self.line_ids[modem.name]
        cluster = self.cluster
        sender = LineSender(
            line_id=line_id,
            line_name=modem.name,
            store=self.store,
            publisher=self.publisher,
            send_part=supervisor.send_part,
            can_send=lambda: board.can_send(modem.name) and (
                cluster is None or cluster.holds(line_id)
            ),
            retry_limit=sending.retry_limit,
            retry_backoff_s=sending.retry_backoff_s,
            retry_backoff_max_s=sending.retry_backoff_max_s,
            store_retry_initial_s=self.config.inbound.db_retry_interval_s,
            clock=self.clock,
            owner=None if cluster is None else cluster.owner,
        )
        self.senders[modem.name] = sender
        if cluster is not None:
            cluster.want(line_id, sender.wake)
        self._sender_tasks[modem.name] = self.tasks.spawn(f"sender-{modem.name}", sender.run)
        await supervisor.start()

    async def _start_smpp(self) -> None:
        """A session and a sender per SMPP account; a simulated SMSC first for the accounts
        marked `simulator: true`, on the in-process network."""
        assert self.store is not None
        assert self.board is not None
        assert self.inbound is not None
        for account in self.config.smpp:
            if account.simulator and self.sim is not None:
                smsc = SimSmsc(self.sim.network, host=account.host, port=account.port,
                               system_id=account.system_id, password=account.password,
                               number=account.number)
                await smsc.start()
                self._smscs.append(smsc)
        self.smpp = SmppLines(
            store=self.store, publisher=self.publisher, board=self.board, inbound=self.inbound,
            line_ids=self.line_ids, sending=self.config.sending, driver=self.config.driver,
            store_retry_initial_s=self.config.inbound.db_retry_interval_s, clock=self.clock,
        )
        for account in self.config.smpp:
            session, sender = self.smpp.build(account)
            self.senders[account.name] = sender
            self._sender_tasks[account.name] = self.tasks.spawn(
                f"sender-{account.name}", sender.run
            )
            await session.start()

    async def _remove_modem(self, name: str) -> None:
        if self.cluster is not None and name in self.line_ids:
            self.cluster.unwant(self.line_ids[name])
        sender = self.senders.pop(name, None)
        task = self._sender_tasks.pop(name, None)
        if sender is not None:
            sender.stop()
        if task is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.config.driver.send_timeout_s):
                    await asyncio.shield(task)
            await self.tasks.stop(task)
        supervisor = self.supervisors.pop(name, None)
        if supervisor is not None:
            await supervisor.stop()
        if self.sim is not None:
            await self.sim.remove(name)

    async def _auto_match(self, line: LineConfig, device: str) -> None:
        from gateway.discovery import modem_config_for

        log.info("auto.modem_found", line=line.name, device=device)
        await self._add_modem(modem_config_for(line, device))

    async def _auto_lost(self, device: str) -> None:
        for name, supervisor in list(self.supervisors.items()):
            if supervisor.settings.device == device:
                log.info("auto.modem_gone", line=name, device=device)
                await self._remove_modem(name)

    def _wake_sender(self, state: LineState) -> None:
        sender = self.senders.get(state.name)
        if sender is not None and state.can_send:
            sender.wake()

    def wake_outbound(self) -> None:
        """A part was queued: every sender looks at its queue (cheap; each checks its line)."""
        for sender in self.senders.values():
            sender.wake()

    async def reload(self, config: Config) -> None:
        """Apply a re-read config.yaml: modems added, removed or changed are brought in line;
        the others, the HTTP server and every agent session stay as they are."""
        self.notifier.reloading("reloading config.yaml")
        plan = plan_reload(self.config, config)
        for setting in plan.needs_restart:
            log.warning("reload.needs_restart", setting=setting)
        config = plan.config
        if self.store is not None:
            await self._ensure_lines(config.line_list)
        if plan.discovery_kept and self.auto is not None:
            await self.auto.update_lines(config.lines)
        if self.sim is None and any(m.simulator for m in config.modem_list):
            self.sim = self._simulator(config)
        self.config = config
        if self.failover is not None:
            self.failover.configure(config.sending)
        for name in plan.removed:
            log.info("reload.modem_removed", line=name)
            await self._remove_modem(name)
        for modem in plan.changed:
            log.info("reload.modem_changed", line=modem.name)
            await self._remove_modem(modem.name)
            await self._add_modem(modem)
        for modem in plan.added:
            log.info("reload.modem_added", line=modem.name)
            await self._add_modem(modem)
        self.notifier.ready(self.status_summary())

    # reporting ------------------------------------------------------------------------------

    def status_summary(self) -> str:
        return self.report.summary() if self.report is not None else "starting"

    async def status(self) -> dict[str, Any]:
        """What `sms-gateway status` shows: lines, queues, the oldest waiting request."""
        assert self.report is not None
        return {
            **({} if self.cluster is None else {"cluster": await self.cluster.describe()}),
            "unknown_devices": [] if self.auto is None else [
                u.as_dict() for u in self.auto.unknown_devices.values()
            ],
            "summary": self.report.summary(),
            "http": self.http_url,
            "simulator": self.sim_control_url,
            "lines": await self.report.lines(),
            "oldest_request": await self.report.oldest_request(),
        }

    # shutdown -------------------------------------------------------------------------------

    async def stop(self) -> None:
        self.notifier.stopping()
        if self.auto is not None:
            await self.auto.stop()  # nothing new is brought up while stopping
            self.auto = None
        if self.failover is not None:
            self.failover.close()
        if self._web is not None:
            await self._web.cleanup()
            self._web = None
        if self.workflow is not None:
            await self.workflow.stop()
        if self._control is not None:
            await self._control.stop()
            self._control = None
        for name in list(self.senders):
            await self._remove_modem(name)
        for name in list(self.supervisors):
            await self._remove_modem(name)
        if self.smpp is not None:
            await self.smpp.stop()  # unbinds, after the senders finished their part in flight
            self.smpp = None
        for smsc in self._smscs:
            await smsc.stop()
        self._smscs.clear()
        await self.tasks.close()
        if self.board is not None:
            await self.board.close()
        if self.cluster is not None:
            await self.cluster.stop()
            self.cluster = None
        if self._sim_web is not None:
            await self._sim_web.cleanup()
            self._sim_web = None
        if self.sim is not None:
            await self.sim.close()
            self.sim = None
        if self.store is not None:
            await self.store.close()
            self.store = None
        self._hold.release()
