"""Claiming outbound parts in a cluster: only the node holding a line's lease sends on it.

The check runs in the transaction that commits a part as `sending`, with the part row taken
FOR UPDATE SKIP LOCKED, so two nodes can never both commit one part for sending. The lease row
is not locked (a heartbeat must never queue behind the busy path): a claim that commits just as
its lease passes to another node is harmless, because its node checks its own, earlier, lease
deadline again right before AT+CMGS, and the node taking a line over marks the parts it finds
`sending` unknown.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text

from gateway.store.errors import ConflictError


class LeaseLostError(ConflictError):
    """This node does not hold the line's lease (any more): it must not send on the line."""


class PartNotClaimedError(ConflictError):
    """Another sender holds the part right now, or it is no longer queued: skip it."""


@dataclass(frozen=True, slots=True)
class LineOwner:
    """Who claims outbound parts: a node's running instance."""

    node: str
    instance: str


_CHECK = text("""
    SELECT 1 FROM leases
    WHERE line_id = (SELECT line_id FROM message_parts WHERE id = :part_id)
      AND instance = :instance AND expires_at > clock_timestamp()
""")
_CLAIM = text("""
    SELECT id FROM message_parts WHERE id = :part_id AND status = 'queued'
    FOR UPDATE SKIP LOCKED
""")


def claim_part(connection: Connection, part_id: int, owner: LineOwner) -> None:
    """In the caller's transaction: `owner` holds the lease of the part's line, and the part is
    queued and not being claimed by anyone else (else LeaseLostError, PartNotClaimedError)."""
    if connection.execute(_CHECK, {"part_id": part_id, "instance": owner.instance}).first() is None:
        raise LeaseLostError(f"this node does not hold the lease of part {part_id}'s line")
    if connection.execute(_CLAIM, {"part_id": part_id}).first() is None:
        raise PartNotClaimedError(f"part {part_id} is taken or no longer queued")
