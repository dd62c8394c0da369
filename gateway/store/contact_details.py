"""What agents keep about a contact: a name, notes, tags and an address from the search."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from gateway.store.accounts import add_audit
from gateway.store.contacts import ensure_contact
from gateway.store.database import Database
from gateway.store.models import ContactRow


@dataclass(frozen=True, slots=True)
class ContactDetails:
    id: int
    number: str
    name: str | None
    notes: str | None
    tags: tuple[str, ...]
    address: str | None
    opted_out: bool
    opted_out_at: datetime | None
    created_at: datetime
    updated_at: datetime | None


def details(row: ContactRow) -> ContactDetails:
    return ContactDetails(
        id=row.id, number=row.number, name=row.name, notes=row.notes,
        tags=tuple(row.tags or ()), address=row.street_address, opted_out=row.opted_out,
        opted_out_at=row.opted_out_at, created_at=row.created_at, updated_at=row.updated_at,
    )


class ContactDetailsRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def find(self, number: str) -> ContactDetails | None:
        """`number` as stored (E.164, or an alphanumeric sender as sent)."""
        async with self._db.read() as session:
            row = await session.scalar(select(ContactRow).where(ContactRow.number == number))
            return details(row) if row is not None else None

    async def by_ids(self, contact_ids: list[int]) -> dict[int, ContactDetails]:
        if not contact_ids:
            return {}
        async with self._db.read() as session:
            rows = await session.scalars(select(ContactRow).where(ContactRow.id.in_(contact_ids)))
            return {row.id: details(row) for row in rows}

    async def save(
        self, number: str, *, name: str | None, notes: str | None, tags: tuple[str, ...],
        address: str | None, keep_address: bool, by: int, now: datetime,
    ) -> ContactDetails:
        """Create or update the contact of `number` (already normalised); audited."""
        async with self._db.write() as session:
            row = await ensure_contact(session, number, now)
            row.name, row.notes, row.tags, row.updated_at = name, notes, list(tags), now
            if keep_address:
                row.street_address = address
            await session.flush()
            add_audit(session, user_id=by, action="contact.update", target=f"contact:{row.id}",
                      details={"fields": ["name", "notes", "tags"]
                               + (["address"] if keep_address else [])}, now=now)
            return details(row)

    async def opted_out(self, limit: int) -> list[ContactDetails]:
        """Newest opt-out first."""
        async with self._db.read() as session:
            rows = await session.scalars(
                select(ContactRow).where(ContactRow.opted_out.is_(True))
                .order_by(ContactRow.opted_out_at.desc(), ContactRow.id.desc()).limit(limit))
            return [details(row) for row in rows]
