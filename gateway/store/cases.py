"""Cases: an agent's conversation with one phone number. At most one open case per contact."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.store import convert
from gateway.store.database import Database, utc_now
from gateway.store.domain import AddressStatus, Case, CaseChange, CaseStatus
from gateway.store.errors import CaseAlreadyOpenError, InvalidTransitionError, NotFoundError
from gateway.store.events import append_event
from gateway.store.models import CaseRow, ContactRow, MessageRow


def case_data(case: Case, **extra: Any) -> dict[str, Any]:
    return {
        "id": case.id, "contact_id": case.contact_id, "phone": case.phone,
        "line_id": case.line_id, "status": case.status, "agent_id": case.agent_id,
        "address": case.address, "address_status": case.address_status,
        "opened_at": case.opened_at.isoformat(),
        "closed_at": case.closed_at.isoformat() if case.closed_at else None,
        "closed_by": case.closed_by, **extra,
    }


async def load_case(session: AsyncSession, case_id: int) -> Case:
    row = (
        await session.execute(
            select(CaseRow, ContactRow.number)
            .join(ContactRow, ContactRow.id == CaseRow.contact_id)
            .where(CaseRow.id == case_id)
            .execution_options(populate_existing=True)
        )
    ).first()
    if row is None:
        raise NotFoundError("case", case_id)
    return convert.case(row[0], row[1])


async def open_case_in(
    session: AsyncSession,
    contact_id: int,
    line_id: int | None,
    agent_id: int | None,
    now: datetime,
) -> tuple[Case, bool]:
    """The contact's open case, or a new one; (case, created). Files the contact's unfiled
    messages under it."""
    existing = await session.scalar(
        select(CaseRow.id).where(CaseRow.contact_id == contact_id, CaseRow.status == "open")
    )
    if existing is not None:
        return await load_case(session, existing), False
    row = CaseRow(
        contact_id=contact_id, line_id=line_id, status="open", agent_id=agent_id, opened_at=now
    )
    session.add(row)
    await session.flush()
    await _file_unfiled_messages(session, contact_id, row.id)
    return await load_case(session, row.id), True


async def reopen_case_in(
    session: AsyncSession, case_id: int, agent_id: int | None, now: datetime
) -> Case:
    """Continue a closed case: it is open again, with this agent."""
    result = await session.execute(
        update(CaseRow)
        .where(CaseRow.id == case_id, CaseRow.status == "closed")
        .values(status="open", agent_id=agent_id, closed_at=None, closed_by=None)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        current = await session.scalar(select(CaseRow.status).where(CaseRow.id == case_id))
        if current is None:
            raise NotFoundError("case", case_id)
        raise InvalidTransitionError("case", case_id, current, "open")
    case = await load_case(session, case_id)
    await _file_unfiled_messages(session, case.contact_id, case_id)
    return case


async def _file_unfiled_messages(session: AsyncSession, contact_id: int, case_id: int) -> None:
    await session.execute(
        update(MessageRow)
        .where(MessageRow.contact_id == contact_id, MessageRow.case_id.is_(None))
        .values(case_id=case_id)
    )


class CaseRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def open_case(
        self,
        contact_id: int,
        line_id: int | None = None,
        agent_id: int | None = None,
        now: datetime | None = None,
    ) -> CaseChange:
        """The contact's open case if there is one (created=False, no event), else a new one
        (case.opened). Never a second open case, even when two callers race."""
        now = now or utc_now()
        try:
            async with self._db.write() as session:
                case, created = await open_case_in(session, contact_id, line_id, agent_id, now)
                event = None
                if created:
                    event = await append_event(session, "case.opened", case_data(case), now)
                return CaseChange(case=case, event=event, created=created)
        except IntegrityError:
            current = await self.find_open(contact_id)
            if current is None:
                raise
            return CaseChange(case=current, event=None, created=False)

    async def continue_case(
        self, case_id: int, agent_id: int | None, now: datetime | None = None
    ) -> CaseChange:
        now = now or utc_now()
        try:
            async with self._db.write() as session:
                case = await reopen_case_in(session, case_id, agent_id, now)
                event = await append_event(
                    session, "case.opened", case_data(case, continued=True), now
                )
                return CaseChange(case=case, event=event)
        except IntegrityError as error:
            case = await self.get(case_id)
            current = await self.find_open(case.contact_id)
            if current is None:
                raise
            raise CaseAlreadyOpenError(case.contact_id, current.id) from error

    async def close_case(
        self, case_id: int, closed_by: int | None, now: datetime | None = None
    ) -> CaseChange:
        now = now or utc_now()
        async with self._db.write() as session:
            result = await session.execute(
                update(CaseRow)
                .where(CaseRow.id == case_id, CaseRow.status == "open")
                .values(status="closed", closed_at=now, closed_by=closed_by)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                current = await load_case(session, case_id)
                raise InvalidTransitionError("case", case_id, current.status, "closed")
            case = await load_case(session, case_id)
            event = await append_event(session, "case.closed", case_data(case), now)
            return CaseChange(case=case, event=event)

    async def assign(
        self, case_id: int, agent_id: int | None, now: datetime | None = None
    ) -> CaseChange:
        """Reassign a case to another agent (or to nobody)."""
        return await self._update(case_id, {"agent_id": agent_id}, now, reason="assigned")

    async def set_address(
        self,
        case_id: int,
        address: str | None,
        address_status: AddressStatus,
        now: datetime | None = None,
    ) -> CaseChange:
        return await self._update(
            case_id, {"address": address, "address_status": address_status}, now,
            reason="address",
        )

    async def _update(
        self, case_id: int, values: dict[str, Any], now: datetime | None, reason: str
    ) -> CaseChange:
        now = now or utc_now()
        async with self._db.write() as session:
            result = await session.execute(
                update(CaseRow).where(CaseRow.id == case_id).values(**values)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                raise NotFoundError("case", case_id)
            case = await load_case(session, case_id)
            event = await append_event(session, "case.updated", case_data(case, change=reason), now)
            return CaseChange(case=case, event=event)

    async def get(self, case_id: int) -> Case:
        async with self._db.read() as session:
            return await load_case(session, case_id)

    async def find_open(self, contact_id: int) -> Case | None:
        return await self._first(contact_id, "open")

    async def most_recent(self, contact_id: int) -> Case | None:
        """The contact's latest case, open or closed (what "continue" offers)."""
        return await self._first(contact_id, None)

    async def _first(self, contact_id: int, status: CaseStatus | None) -> Case | None:
        query = select(CaseRow.id).where(CaseRow.contact_id == contact_id)
        if status is not None:
            query = query.where(CaseRow.status == status)
        async with self._db.read() as session:
            case_id = await session.scalar(
                query.order_by(CaseRow.opened_at.desc(), CaseRow.id.desc()).limit(1)
            )
            return await load_case(session, case_id) if case_id is not None else None

    async def list_cases(
        self,
        status: CaseStatus | None = None,
        agent_id: int | None = None,
        limit: int = 200,
    ) -> list[Case]:
        """Newest first."""
        query = select(CaseRow, ContactRow.number).join(
            ContactRow, ContactRow.id == CaseRow.contact_id
        )
        if status is not None:
            query = query.where(CaseRow.status == status)
        if agent_id is not None:
            query = query.where(CaseRow.agent_id == agent_id)
        query = query.order_by(CaseRow.opened_at.desc(), CaseRow.id.desc()).limit(limit)
        async with self._db.read() as session:
            return [convert.case(row, phone) for row, phone in (await session.execute(query)).all()]
