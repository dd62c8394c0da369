"""Cases: an agent's conversation with one phone number. At most one open case per contact (a
partial unique index says so), opened by answering a request (gateway.store.requests) or by an
agent starting a chat.

Each change appends its events to the log and its audit entry in the same transaction, and
returns the events so the caller publishes them after the commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import exc as sa_exc
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.store import convert, listing
from gateway.store.accounts import add_audit
from gateway.store.database import Database
from gateway.store.domain import AddressStatus, Case, CaseChange, CasePage, CaseStatus, Event
from gateway.store.errors import CaseAlreadyOpenError, InvalidTransitionError, NotFoundError
from gateway.store.event_data import case_event_data, request_event_data
from gateway.store.events import append_event
from gateway.store.models import CaseRow, ContactRow, MessageRow, RequestRow, UserRow


async def contact_phone(session: AsyncSession, contact_id: int) -> str:
    number = await session.scalar(select(ContactRow.number).where(ContactRow.id == contact_id))
    if number is None:
        raise NotFoundError("contact", contact_id)
    return number


async def attach_unrouted(session: AsyncSession, contact_id: int, case_id: int) -> None:
    """Files the contact's inbound texts that are in no case under this one."""
    await session.execute(
        update(MessageRow)
        .where(
            MessageRow.contact_id == contact_id,
            MessageRow.direction == "in",
            MessageRow.case_id.is_(None),
        )
        .values(case_id=case_id)
    )


async def _cancel_pending(
    session: AsyncSession, contact_id: int, case_id: int, now: datetime
) -> list[Event]:
    """A case opened by an agent settles the contact's waiting request: it stops ringing."""
    rows = (
        await session.execute(
            select(RequestRow).where(
                RequestRow.contact_id == contact_id, RequestRow.status == "pending"
            )
        )
    ).scalars().all()
    events = []
    for row in rows:
        row.status = "cancelled"
        row.case_id = case_id
        await session.flush()
        request = convert.request(row, await contact_phone(session, contact_id))
        events.append(await append_event(session, "request.cancelled",
                                         request_event_data(request), now))
    return events


class CasesRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, case_id: int) -> Case | None:
        async with self._db.read() as session:
            found = (
                await session.execute(
                    select(CaseRow, ContactRow.number)
                    .join(ContactRow, ContactRow.id == CaseRow.contact_id)
                    .where(CaseRow.id == case_id)
                )
            ).one_or_none()
            return convert.case(found[0], found[1]) if found is not None else None

    async def list_cases(
        self,
        *,
        status: CaseStatus | None = None,
        agent_id: int | None = None,
        contact_id: int | None = None,
        limit: int = 200,
    ) -> list[Case]:
        query = (
            select(CaseRow, ContactRow.number)
            .join(ContactRow, ContactRow.id == CaseRow.contact_id)
            .order_by(CaseRow.opened_at.desc(), CaseRow.id.desc())
            .limit(limit)
        )
        if status is not None:
            query = query.where(CaseRow.status == status)
        if agent_id is not None:
            query = query.where(CaseRow.agent_id == agent_id)
        if contact_id is not None:
            query = query.where(CaseRow.contact_id == contact_id)
        async with self._db.read() as session:
            rows = await session.execute(query)
            return [convert.case(row, number) for row, number in rows]

    async def case_page(
        self,
        *,
        status: CaseStatus | None = None,
        agent_id: int | None = None,
        limit: int,
        before: int | None = None,
    ) -> CasePage:
        """A page of cases, newest first, with the agents' names, the lines and the count, in
        a fixed number of statements (see gateway.store.listing)."""
        return await self._db.run_read(
            lambda c: listing.case_page(c, status=status, agent_id=agent_id, limit=limit,
                                        before=before)
        )

    async def most_recent(self, contact_id: int) -> Case | None:
        """The contact's latest case, open or closed (what "continue" offers)."""
        cases = await self.list_cases(contact_id=contact_id, limit=1)
        return cases[0] if cases else None

    async def open_case(
        self, contact_id: int, line_id: int | None, agent_id: int, now: datetime
    ) -> CaseChange:
        """An agent-initiated chat: the contact's open case if there is one, else a new one.

        A pending request from the same number is settled by the new case (it stops ringing).
        When another process opens one at the same moment this raises CaseAlreadyOpenError
        naming it; asking again returns it.
        """
        try:
            return await self._open_case(contact_id, line_id, agent_id, now)
        except sa_exc.IntegrityError as error:
            current = await self._open_case_id(contact_id)
            if current is None:
                raise
            raise CaseAlreadyOpenError(contact_id, current) from error

    async def _open_case_id(self, contact_id: int) -> int | None:
        async with self._db.read() as session:
            value = await session.scalar(
                select(CaseRow.id).where(CaseRow.contact_id == contact_id,
                                         CaseRow.status == "open")
            )
            return int(value) if value is not None else None

    async def _open_case(
        self, contact_id: int, line_id: int | None, agent_id: int, now: datetime
    ) -> CaseChange:
        async with self._db.write() as session:
            phone = await contact_phone(session, contact_id)
            existing = (
                await session.execute(
                    select(CaseRow).where(CaseRow.contact_id == contact_id,
                                          CaseRow.status == "open")
                )
            ).scalar_one_or_none()
            if existing is not None:
                return CaseChange(convert.case(existing, phone), (), created=False)
            if line_id is None:
                line_id = await session.scalar(
                    select(MessageRow.line_id)
                    .where(MessageRow.contact_id == contact_id)
                    .order_by(MessageRow.sort_at.desc(), MessageRow.id.desc())
                    .limit(1)
                )
            row = CaseRow(
                contact_id=contact_id, line_id=line_id, status="open", agent_id=agent_id,
                address_status="pending", opened_at=now,
            )
            session.add(row)
            await session.flush()
            events = await _cancel_pending(session, contact_id, row.id, now)
            await attach_unrouted(session, contact_id, row.id)
            case = convert.case(row, phone)
            events.append(await append_event(
                session, "case.opened", case_event_data(case) | {"outbound": True}, now
            ))
            add_audit(session, user_id=agent_id, action="case.open", target=f"case:{row.id}",
                      details={"phone": phone}, now=now)
            return CaseChange(case, tuple(events), created=True)

    async def close_case(self, case_id: int, by: int, now: datetime) -> CaseChange:
        async with self._db.write() as session:
            row = await session.get(CaseRow, case_id)
            if row is None:
                raise NotFoundError("case", case_id)
            if row.status != "open":
                raise InvalidTransitionError("case", case_id, row.status, "closed")
            row.status = "closed"
            row.closed_at = now
            row.closed_by = by
            await session.flush()
            case = convert.case(row, await contact_phone(session, row.contact_id))
            event = await append_event(session, "case.closed",
                                       case_event_data(case) | {"closed_by": by}, now)
            add_audit(session, user_id=by, action="case.close", target=f"case:{case_id}",
                      details={}, now=now)
            return CaseChange(case, (event,))

    async def reassign_case(
        self, case_id: int, agent_id: int, by: int, now: datetime
    ) -> CaseChange:
        async with self._db.write() as session:
            row = await session.get(CaseRow, case_id)
            if row is None:
                raise NotFoundError("case", case_id)
            if await session.get(UserRow, agent_id) is None:
                raise NotFoundError("user", agent_id)
            previous = row.agent_id
            row.agent_id = agent_id
            await session.flush()
            case = convert.case(row, await contact_phone(session, row.contact_id))
            event = await append_event(
                session, "case.updated",
                case_event_data(case) | {"reason": "reassigned", "previous_agent_id": previous},
                now,
            )
            add_audit(session, user_id=by, action="case.reassign", target=f"case:{case_id}",
                      details={"from": previous, "to": agent_id}, now=now)
            return CaseChange(case, (event,))

    async def set_address(
        self, case_id: int, status: AddressStatus, address: str | None, now: datetime
    ) -> CaseChange:
        async with self._db.write() as session:
            row = await session.get(CaseRow, case_id)
            if row is None:
                raise NotFoundError("case", case_id)
            row.address_status = status
            row.address = address
            await session.flush()
            case = convert.case(row, await contact_phone(session, row.contact_id))
            event = await append_event(
                session, "case.updated", case_event_data(case) | {"reason": "address"}, now
            )
            return CaseChange(case, (event,))

    async def open_case_agents(self) -> dict[int, int | None]:
        async with self._db.read() as session:
            rows = await session.execute(
                select(CaseRow.id, CaseRow.agent_id).where(CaseRow.status == "open")
            )
            return {int(case_id): agent_id for case_id, agent_id in rows}

    async def case_agent(self, case_id: int) -> int | None:
        async with self._db.read() as session:
            value = await session.scalar(select(CaseRow.agent_id).where(CaseRow.id == case_id))
            return int(value) if value is not None else None

    async def open_case_counts(self) -> dict[int, int]:
        """Open cases per agent, for the supervisors' view of who holds what."""
        async with self._db.read() as session:
            rows = await session.execute(
                select(CaseRow.agent_id, func.count())
                .where(CaseRow.status == "open", CaseRow.agent_id.is_not(None))
                .group_by(CaseRow.agent_id)
            )
            return {int(agent): int(count) for agent, count in rows if agent is not None}

    async def case_starts(self, case_ids: Iterable[int]) -> dict[int, datetime]:
        """The first shown message of each case: when its interaction began."""
        wanted = list(set(case_ids))
        if not wanted:
            return {}
        async with self._db.read() as session:
            rows = await session.execute(
                select(MessageRow.case_id, func.min(MessageRow.sort_at))
                .where(MessageRow.case_id.in_(wanted), MessageRow.status != "receiving")
                .group_by(MessageRow.case_id)
            )
            return {int(case): at for case, at in rows if case is not None}
