"""This daemon as a node of a cluster: heartbeat, line leases, duties, the event feed, and
which agents have a console open on which node (so presence is the cluster's, not the node's).

Every `heartbeat_interval_s` one transaction renews the node's heartbeat and its leases, takes
the lines whose modems are here and whose lease is free, and shows down the lines whose holder
stopped renewing (see gateway.store.lease). A lease is counted as this node's for `lease_ttl_s`
from the moment its renewal was *sent*, so the node gives a line up no later than the database
lets another node take it: when renewals fail (the database is gone, this host is cut off), its
senders stop at that moment without waiting for anyone.

The node holding `duties` does the once-per-cluster work: the outgoing webhooks (see
`on_duties`); migrations are serialised by an advisory lock of their own (gateway.store.migrate).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import structlog

from gateway.bus import BusEvent, Publisher
from gateway.cluster.feed import ClusterBus, EventFeed
from gateway.config import Config, NodeConfig
from gateway.service.presence import Presence
from gateway.store import Store, StoreError
from gateway.store.claims import LineOwner
from gateway.store.lease import LeaseRepository, NodeNameTakenError

log = structlog.get_logger("gateway.cluster")

# A renewal counts from when it was sent, less this, against a database clock running a little
# faster than ours.
LEASE_SAFETY_S = 0.5


@dataclass(slots=True)
class _Wanted:
    wake: Callable[[], None]
    until: float = float("-inf")  # loop time until which the lease is ours


class ClusterMember:
    def __init__(
        self,
        config: Config,
        store: Store,
        bus: ClusterBus,
        publisher: Publisher,
        *,
        on_duties: Callable[[bool], Awaitable[None]] | None = None,
    ) -> None:
        assert config.node is not None
        self.settings: NodeConfig = config.node
        self.owner = LineOwner(config.node.name, uuid.uuid4().hex)
        self.http_url: str | None = None
        self._store = store
        self._leases = LeaseRepository(store.db)
        self._publisher = publisher
        self._bus = bus
        self.feed = EventFeed(store, bus, config.database_url,
                              poll_interval_s=config.node.event_poll_interval_s)
        self._wanted: dict[int, _Wanted] = {}
        self._duties_until = float("-inf")
        self._has_duties = False
        self._on_duties = on_duties
        self._beat_now = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._unlisten: Callable[[], None] | None = None
        self._presence: Presence | None = None
        self._nodes_alive: frozenset[str] | None = None
        self.beats = 0

    @property
    def name(self) -> str:
        return self.owner.node

    # -- lifecycle

    async def start(self) -> None:
        """Register under node.name (waiting out a previous run of this node that has not been
        seen for a lease's time yet), then follow the event log."""
        await self._register()
        await self.feed.start()
        self._unlisten = self._bus.listen(self._on_event, every_node=True)
        self._task = asyncio.get_running_loop().create_task(self._run(), name="cluster-heartbeat")

    async def _register(self) -> None:
        settings = self.settings
        loop = asyncio.get_running_loop()
        deadline = loop.time() + settings.lease_ttl_s + 2 * settings.heartbeat_interval_s
        while True:
            try:
                await self._leases.register(self.owner, self.http_url, settings.lease_ttl_s)
                log.info("cluster.registered", node=self.name, instance=self.owner.instance)
                return
            except NodeNameTakenError as error:
                if loop.time() > deadline:
                    raise
                # Most often this node's own previous run (killed, restarted at once), whose
                # heartbeat has not lapsed yet; a second host under this name is refused at the
                # deadline with NodeNameTakenError's own words.
                log.warning(
                    "cluster.waiting_for_previous_instance", node=self.name,
                    last_heartbeat=error.last_seen.isoformat(),
                    wait_at_most_s=round(max(0.0, deadline - loop.time()), 1),
                    hint="another instance under this node.name heartbeated less than"
                    " node.lease_ttl_s ago: a previous run of this node that has not lapsed"
                    " yet, or another host with the same node.name",
                )
                await asyncio.sleep(settings.heartbeat_interval_s)

    async def stop(self) -> None:
        """Let go of every lease at once (the lines show down until another node takes them)."""
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._set_duties(False)
        for wanted in self._wanted.values():
            wanted.until = float("-inf")
        try:
            self._publisher.publish(await self._leases.release(self.owner))
        except StoreError as error:
            log.warning("cluster.release_failed", error=str(error))
        await self.feed.stop()

    def attach_presence(self, presence: Presence) -> None:
        """Tell the other nodes at each heartbeat (and at once when it changes) which agents
        have a console open here, and hand presence the ones open on the other nodes."""
        self._presence = presence
        presence.on_change = self._beat_now.set

    # -- lines

    def want(self, line_id: int, wake: Callable[[], None]) -> None:
        """This node has the line's modem: take the lease when it is free. `wake` is called
        when the lease is taken and when another node queues a part on the line."""
        self._wanted[line_id] = _Wanted(wake)
        self._beat_now.set()

    def unwant(self, line_id: int) -> None:
        self._wanted.pop(line_id, None)
        self._beat_now.set()

    def holds(self, line_id: int) -> bool:
        """Whether this node may send on the line now."""
        wanted = self._wanted.get(line_id)
        return wanted is not None and asyncio.get_running_loop().time() < wanted.until

    @property
    def has_duties(self) -> bool:
        return self._has_duties and asyncio.get_running_loop().time() < self._duties_until

    def _on_event(self, event: BusEvent) -> None:
        """A part queued (by an agent on any node) on a line of ours wakes its sender."""
        data = event.data
        queued = (
            event.type in ("message.created", "message.updated")  # new, or moved by failover
            and data.get("direction") == "out"
        ) or (event.type == "message.status" and data.get("status") == "queued")
        if queued:
            wanted = self._wanted.get(data.get("line_id"))  # type: ignore[arg-type]
            if wanted is not None:
                wanted.wake()

    # -- heartbeat

    async def _run(self) -> None:
        failures = 0
        while True:
            try:
                await self.beat()
                failures = 0
            except NodeNameTakenError as error:
                log.error("cluster.replaced", error=str(error))
                self._drop_all()
            except StoreError as error:
                failures += 1
                (log.warning if failures == 1 else log.debug)(
                    "cluster.heartbeat_failed", error=str(error)
                )
            if not self.has_duties and self._has_duties:
                await self._set_duties(False)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.settings.heartbeat_interval_s):
                    await self._beat_now.wait()
            self._beat_now.clear()

    async def beat(self) -> None:
        loop = asyncio.get_running_loop()
        sent_at = loop.time()
        settings = self.settings
        presence = self._presence
        result = await self._leases.heartbeat(
            self.owner, http_url=self.http_url, line_ids=list(self._wanted),
            duties=True, ttl_s=settings.lease_ttl_s,
            consoles=presence.local_consoles() if presence is not None else None,
        )
        if presence is not None:
            presence.set_elsewhere(result.consoles_elsewhere)
        until = sent_at + settings.lease_ttl_s - LEASE_SAFETY_S
        now = loop.time()
        if now - sent_at > settings.lease_ttl_s / 2:
            log.warning("cluster.heartbeat_slow", took_s=round(now - sent_at, 3))
        self.beats += 1
        self._note_nodes(result.nodes_alive)
        for event in result.events:
            if event.type == "line.status" and event.data.get("node") not in (None, self.name):
                log.warning("cluster.line_lapsed", line=event.data.get("name"),
                            node=event.data.get("node"), error=event.data.get("last_error"))
        self._publisher.publish(result.events)
        for line_id, wanted in self._wanted.items():
            if line_id in result.lines:
                lapsed = wanted.until <= now
                wanted.until = until
                if line_id in result.acquired:
                    log.info("cluster.line_taken", line_id=line_id, node=self.name)
                if lapsed:
                    wanted.wake()  # its sender stopped when the lease lapsed here
            elif wanted.until > float("-inf"):
                wanted.until = float("-inf")
                log.warning("cluster.line_held_elsewhere", line_id=line_id, node=self.name)
        if result.duties:
            self._duties_until = until
        await self._set_duties(result.duties)

    def _note_nodes(self, alive: frozenset[str]) -> None:
        """Log the other nodes coming and going, so each node's journal tells the outage."""
        seen = self._nodes_alive
        self._nodes_alive = alive
        if seen is None:
            return
        for node in sorted(alive - seen - {self.name}):
            log.info("cluster.node_up", node=node)
        for node in sorted(seen - alive - {self.name}):
            log.warning("cluster.node_down", node=node,
                        detail="no heartbeat for node.lease_ttl_s, or it stopped; its lines are"
                        " shown down until a node holding their modem takes them")

    def _drop_all(self) -> None:
        for wanted in self._wanted.values():
            wanted.until = float("-inf")
        self._duties_until = float("-inf")

    async def _set_duties(self, held: bool) -> None:
        if held == self._has_duties:
            return
        self._has_duties = held
        log.info("cluster.duties", node=self.name, held=held)
        if self._on_duties is not None:
            await self._on_duties(held)

    # -- what status and the API show

    async def describe(self) -> dict[str, Any]:
        nodes = await self._leases.nodes(self.settings.lease_ttl_s)
        owners = await self._leases.owners()
        lines = await self._store.lines.list_all()
        return {
            "node": self.name,
            "duties": self.has_duties,
            # Every line of the cluster and the node that holds it now (None: no live node).
            "lines": [{"name": line.name, "node": owners.get(line.id)} for line in lines],
            "nodes": [
                {"name": n.name, "last_seen": n.last_seen.isoformat(), "alive": n.alive,
                 "http": n.http_url, "lines": list(n.lines)}
                for n in nodes
            ],
        }
