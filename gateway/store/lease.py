"""Cluster state in the database: the nodes and their heartbeat, and leases (PostgreSQL only).

A lease says who may act until when: `line:ID` (the one node that sends on a line) or `duties`
(the one node that does the once-per-cluster work). Every time is the database server's clock
(clock_timestamp()), so the hosts' clocks never need to agree: a lease taken or renewed by a
statement expires `ttl` after that statement ran, and another node may take it only after that,
as seen by the same clock. A node that counts its own lease from the moment it *sent* the
renewal is therefore never later than the database.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, JSON, Connection, Integer, bindparam, text

from gateway.store import convert
from gateway.store.claims import LineOwner
from gateway.store.database import Database, utc_now
from gateway.store.domain import Event, Line
from gateway.store.errors import StoreError
from gateway.store.events import insert_events
from gateway.store.outbound import mark_line_sending_unknown

DUTIES = "duties"
STOPPED = "stopped"  # the instance of a node that stopped cleanly
LAPSED_ERROR = "node {node} stopped renewing its lease on this line"


class NodeNameTakenError(StoreError):
    """Another running instance heartbeats under this node name."""

    def __init__(self, name: str, last_seen: datetime) -> None:
        super().__init__(
            f"node name {name!r} is in use by another running gateway (last heartbeat"
            f" {last_seen.isoformat()}); every node needs its own node.name"
        )
        self.name = name
        self.last_seen = last_seen


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """What one heartbeat found: the lines and duties held now, and the events it logged
    (parts found `sending` on a line taken over, lines whose owner lapsed shown down)."""

    lines: frozenset[int]
    duties: bool
    acquired: frozenset[int]
    events: tuple[Event, ...]
    consoles_elsewhere: frozenset[int] = frozenset()  # users with a console on another node
    nodes_alive: frozenset[str] = frozenset()  # every node heartbeating, this one included


@dataclass(frozen=True, slots=True)
class NodeInfo:
    name: str
    last_seen: datetime
    started_at: datetime
    http_url: str | None
    alive: bool
    lines: tuple[str, ...]


_INTERVAL = "make_interval(secs => :ttl)"
_REGISTER = text(f"""
    INSERT INTO cluster_nodes (name, instance, http_url, started_at, last_seen)
    VALUES (:name, :instance, :http_url, clock_timestamp(), clock_timestamp())
    ON CONFLICT (name) DO UPDATE SET
        instance = excluded.instance, http_url = excluded.http_url,
        started_at = excluded.started_at, last_seen = excluded.last_seen
    WHERE cluster_nodes.instance IN (excluded.instance, '{STOPPED}')
       OR cluster_nodes.last_seen < clock_timestamp() - {_INTERVAL}
    RETURNING name
""")
# A clean stop: the name is free at once for the next start.
_STOPPED = text(f"""
    UPDATE cluster_nodes SET instance = '{STOPPED}' WHERE name = :name AND instance = :instance
""")
_LAST_SEEN = text("SELECT last_seen FROM cluster_nodes WHERE name = :name")
_BEAT = text("""
    UPDATE cluster_nodes
    SET last_seen = clock_timestamp(), http_url = :http_url, consoles = :consoles
    WHERE name = :name AND instance = :instance RETURNING name
""").bindparams(bindparam("consoles", type_=JSON))
_ALIVE = text(f"""
    SELECT name FROM cluster_nodes
    WHERE instance <> '{STOPPED}' AND last_seen > clock_timestamp() - {_INTERVAL}
""")
# The consoles open on the other live nodes (a node that stopped or stopped beating has none).
_CONSOLES_ELSEWHERE = text(f"""
    SELECT consoles FROM cluster_nodes
    WHERE name <> :name AND instance <> '{STOPPED}' AND consoles IS NOT NULL
      AND last_seen > clock_timestamp() - {_INTERVAL}
""")
# Who held the lines before this heartbeat: a line taken from someone else (or no one) needs a
# look at the parts the previous holder left `sending`. No lock: the upsert below succeeds only
# for a lease that is this instance's or has expired, whatever this read saw.
_HOLDERS = text("""
    SELECT line_id, instance FROM leases WHERE line_id = ANY(:ids)
""").bindparams(bindparam("ids", type_=ARRAY(Integer)))
_TAKE_LINES = text(f"""
    INSERT INTO leases (name, line_id, node, instance, acquired_at, expires_at)
    SELECT 'line:' || id, id, :node, :instance, clock_timestamp(), clock_timestamp() + {_INTERVAL}
    FROM unnest(CAST(:ids AS integer[])) AS id
    ON CONFLICT (name) DO UPDATE SET
        node = excluded.node, instance = excluded.instance,
        acquired_at = CASE WHEN leases.instance = excluded.instance THEN leases.acquired_at
                           ELSE excluded.acquired_at END,
        expires_at = excluded.expires_at
    WHERE leases.instance = excluded.instance OR leases.expires_at < clock_timestamp()
    RETURNING line_id
""").bindparams(bindparam("ids", type_=ARRAY(Integer)))
_TAKE_DUTIES = text(f"""
    INSERT INTO leases (name, line_id, node, instance, acquired_at, expires_at)
    VALUES ('{DUTIES}', NULL, :node, :instance, clock_timestamp(), clock_timestamp() + {_INTERVAL})
    ON CONFLICT (name) DO UPDATE SET
        node = excluded.node, instance = excluded.instance,
        acquired_at = CASE WHEN leases.instance = excluded.instance THEN leases.acquired_at
                           ELSE excluded.acquired_at END,
        expires_at = excluded.expires_at
    WHERE leases.instance = excluded.instance OR leases.expires_at < clock_timestamp()
    RETURNING name
""")
_RELEASE_UNWANTED = text("""
    DELETE FROM leases WHERE instance = :instance AND line_id IS NOT NULL
    AND NOT (line_id = ANY(:ids)) RETURNING line_id
""").bindparams(bindparam("ids", type_=ARRAY(Integer)))
_RELEASE_ALL = text("DELETE FROM leases WHERE instance = :instance RETURNING line_id")
# A line whose holder stopped renewing is shown down, once: the update is conditional.
_LAPSED = text("""
    UPDATE lines SET status = 'down', last_seen = clock_timestamp()
    FROM leases
    WHERE leases.line_id = lines.id AND leases.expires_at < clock_timestamp()
      AND lines.status IS DISTINCT FROM 'down'
    RETURNING lines.*, leases.node AS lease_node
""")
_DOWN = text("""
    UPDATE lines SET status = 'down', last_seen = clock_timestamp()
    WHERE id = ANY(:ids) AND status IS DISTINCT FROM 'down' RETURNING lines.*
""").bindparams(bindparam("ids", type_=ARRAY(Integer)))
_NODES = text("""
    SELECT n.name, n.last_seen, n.started_at, n.http_url,
           n.last_seen >= clock_timestamp() - make_interval(secs => :ttl)
           AND n.instance <> 'stopped' AS alive,
           coalesce(array_agg(l.name ORDER BY l.name)
                    FILTER (WHERE l.name IS NOT NULL), '{}') AS lines
    FROM cluster_nodes n
    LEFT JOIN leases ls ON ls.instance = n.instance AND ls.line_id IS NOT NULL
                        AND ls.expires_at > clock_timestamp()
    LEFT JOIN lines l ON l.id = ls.line_id
    GROUP BY n.name ORDER BY n.name
""")
# Lines no node holds, shown down for `after` seconds, with replies waiting: what failover moves.
_ABANDONED = text("""
    SELECT l.id FROM lines l
    WHERE l.status = 'down' AND l.last_seen < clock_timestamp() - make_interval(secs => :after)
      AND NOT EXISTS (SELECT 1 FROM leases s
                      WHERE s.line_id = l.id AND s.expires_at > clock_timestamp())
      AND EXISTS (SELECT 1 FROM message_parts p WHERE p.line_id = l.id AND p.status = 'queued')
    ORDER BY l.id
""")
_OWNERS = text("""
    SELECT line_id, node FROM leases
    WHERE line_id IS NOT NULL AND expires_at > clock_timestamp()
""")


def _down_event_data(row: Any, reason: str) -> dict[str, Any]:
    line = Line(
        id=row.id, name=row.name, number=row.number, iccid=row.iccid, imsi=row.imsi,
        imei=row.imei, model=row.model, status=row.status, last_seen=row.last_seen,
        created_at=row.created_at,
    )
    return {**convert.line_data(line), "can_send": False, "last_error": reason}


class LeaseRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def register(
        self, owner: LineOwner, http_url: str | None, ttl_s: float
    ) -> None:
        """Record this instance under its node name; NodeNameTakenError when another instance
        heartbeated under that name within `ttl_s`."""
        params = {"name": owner.node, "instance": owner.instance, "http_url": http_url,
                  "ttl": ttl_s}

        def write(connection: Connection) -> None:
            if connection.execute(_REGISTER, params).first() is None:
                last_seen = connection.execute(_LAST_SEEN, {"name": owner.node}).scalar_one()
                raise NodeNameTakenError(owner.node, last_seen)

        await self._db.run_write(write)

    async def heartbeat(
        self,
        owner: LineOwner,
        *,
        http_url: str | None,
        line_ids: Sequence[int],
        duties: bool,
        ttl_s: float,
        consoles: Mapping[int, int] | None = None,
        now: datetime | None = None,
    ) -> Heartbeat:
        """Renew this node's heartbeat and leases, take the wanted lines that are free, let go
        of the others, and show down the lines whose holder lapsed, in one transaction; record
        the consoles open here (user id -> count) and read those open on the other nodes."""
        at = now or utc_now()
        ids = sorted(set(line_ids))
        base = {"node": owner.node, "instance": owner.instance, "ttl": ttl_s}

        def write(connection: Connection) -> Heartbeat:
            beat = connection.execute(_BEAT, {
                "name": owner.node, "instance": owner.instance, "http_url": http_url,
                "consoles": {str(user): n for user, n in (consoles or {}).items() if n > 0},
            }).first()
            if beat is None:
                last_seen = connection.execute(_LAST_SEEN, {"name": owner.node}).scalar()
                raise NodeNameTakenError(owner.node, last_seen or at)
            before = {row.line_id: row.instance
                      for row in connection.execute(_HOLDERS, {"ids": ids})}
            held = frozenset(
                row.line_id for row in connection.execute(_TAKE_LINES, {**base, "ids": ids})
            )
            acquired = frozenset(i for i in held if before.get(i) != owner.instance)
            logged: list[Event] = []
            for line_id in sorted(acquired):
                # Whoever held the line before may or may not have sent these.
                logged.extend(mark_line_sending_unknown(connection, line_id, at))
            released = [
                row.line_id
                for row in connection.execute(_RELEASE_UNWANTED, {**base, "ids": ids})
            ]
            if released:
                logged.extend(_show_down(connection, released, "the modem left this node", at))
            has_duties = duties and connection.execute(_TAKE_DUTIES, base).first() is not None
            lapsed = connection.execute(_LAPSED).all()
            logged.extend(insert_events(connection, [
                ("line.status", _down_event_data(row, LAPSED_ERROR.format(node=row.lease_node))
                 | {"node": row.lease_node})
                for row in lapsed
            ], at))
            elsewhere = frozenset(
                int(user)
                for row in connection.execute(
                    _CONSOLES_ELSEWHERE, {"name": owner.node, "ttl": ttl_s})
                for user, count in (row.consoles or {}).items()
                if str(user).isdigit() and isinstance(count, int) and count > 0
            )
            alive = frozenset(row.name for row in connection.execute(_ALIVE, {"ttl": ttl_s}))
            return Heartbeat(lines=held, duties=has_duties, acquired=acquired,
                             events=tuple(logged), consoles_elsewhere=elsewhere,
                             nodes_alive=alive)

        return await self._db.run_write(write)

    async def release(self, owner: LineOwner, now: datetime | None = None) -> list[Event]:
        """A clean stop: let go of every lease at once, and show the lines down."""
        at = now or utc_now()

        def write(connection: Connection) -> list[Event]:
            ids = [row.line_id for row in connection.execute(
                _RELEASE_ALL, {"instance": owner.instance}
            ) if row.line_id is not None]
            connection.execute(_STOPPED, {"name": owner.node, "instance": owner.instance})
            return _show_down(connection, ids, f"node {owner.node} stopped", at)

        return await self._db.run_write(write)

    async def nodes(self, ttl_s: float) -> list[NodeInfo]:
        """Every node that joined; none on SQLite (a cluster needs PostgreSQL)."""
        if self._db.is_sqlite:
            return []

        def read(connection: Connection) -> list[NodeInfo]:
            return [
                NodeInfo(name=row.name, last_seen=row.last_seen, started_at=row.started_at,
                         http_url=row.http_url, alive=bool(row.alive), lines=tuple(row.lines))
                for row in connection.execute(_NODES, {"ttl": ttl_s})
            ]

        return await self._db.run_read(read)

    async def abandoned_lines(self, after_s: float) -> list[int]:
        """Lines that no node has held for `after_s` seconds and that have parts queued."""

        def read(connection: Connection) -> list[int]:
            return [row.id for row in connection.execute(_ABANDONED, {"after": after_s})]

        return await self._db.run_read(read)

    async def owners(self) -> dict[int, str]:
        """The node holding each leased line now (none on SQLite)."""
        if self._db.is_sqlite:
            return {}

        def read(connection: Connection) -> dict[int, str]:
            return {row.line_id: row.node for row in connection.execute(_OWNERS)}

        return await self._db.run_read(read)


def _show_down(
    connection: Connection, line_ids: Sequence[int], reason: str, at: datetime
) -> list[Event]:
    if not line_ids:
        return []
    rows = connection.execute(_DOWN, {"ids": list(line_ids)}).all()
    return insert_events(
        connection, [("line.status", _down_event_data(row, reason)) for row in rows], at
    )
