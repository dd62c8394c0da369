"""The request queue and case lists, a page at a time in a fixed number of statements: one for
the page (every name and flag it shows joined in), one for the count, one for the oldest request
when the page is not the first. A flood of texts costs a longer count, not more queries.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from gateway.store import convert
from gateway.store.domain import (
    CasePage,
    CaseStatus,
    ListedCase,
    RequestPage,
    WaitingRequest,
)
from gateway.store.errors import NotFoundError
from gateway.store.models import CaseRow, ContactRow, LineRow, MessageRow, RequestRow, UserRow

_CaseContact = aliased(ContactRow)
_Agent = aliased(UserRow)
_Closer = aliased(UserRow)
_RecentCase = aliased(CaseRow)
_Earlier = aliased(CaseRow)
_CaseLine = aliased(LineRow)

# -- cases


def _case_columns() -> tuple[Any, ...]:
    return (CaseRow, ContactRow.number, ContactRow.opted_out, LineRow, _Agent.username,
            _Closer.username)


def _with_case_names(query: Select[Any], case: Any, contact: Any, line: Any) -> Select[Any]:
    return (
        query.join(contact, contact.id == case.contact_id)
        .outerjoin(line, line.id == case.line_id)
        .outerjoin(_Agent, _Agent.id == case.agent_id)
        .outerjoin(_Closer, _Closer.id == case.closed_by)
    )


def _listed_case(
    row: CaseRow, number: str, opted_out: bool, line: LineRow | None, agent: str | None,
    closed_by: str | None,
) -> ListedCase:
    return ListedCase(
        case=convert.case(row, number), line=convert.line(line) if line is not None else None,
        agent=agent, closed_by=closed_by, opted_out=bool(opted_out),
    )


def _case_filter(
    status: CaseStatus | None, agent_id: int | None, contact_id: int | None
) -> ColumnElement[bool]:
    conditions: list[ColumnElement[bool]] = [true()]
    if status is not None:
        conditions.append(CaseRow.status == status)
    if agent_id is not None:
        conditions.append(CaseRow.agent_id == agent_id)
    if contact_id is not None:
        conditions.append(CaseRow.contact_id == contact_id)
    return and_(*conditions)


async def case_page(
    session: AsyncSession,
    *,
    status: CaseStatus | None,
    agent_id: int | None,
    limit: int,
    before: int | None,
) -> CasePage:
    """Newest first (opened_at, then id); `before` is a case id: the page starts after it."""
    where = _case_filter(status, agent_id, None)
    page_where = where
    if before is not None:
        anchor = (await session.execute(
            select(CaseRow.opened_at, CaseRow.id).where(CaseRow.id == before)
        )).one_or_none()
        if anchor is None:
            raise NotFoundError("case", before)
        at, anchor_id = anchor
        page_where = and_(where, or_(
            CaseRow.opened_at < at, and_(CaseRow.opened_at == at, CaseRow.id < anchor_id)
        ))
    query = _with_case_names(select(*_case_columns()), CaseRow, ContactRow, LineRow)
    rows = (await session.execute(
        query.where(page_where)
        .order_by(CaseRow.opened_at.desc(), CaseRow.id.desc())
        .limit(limit + 1)
    )).all()
    count = await session.scalar(select(func.count()).select_from(CaseRow).where(where))
    cases = tuple(_listed_case(*row) for row in rows[:limit])
    return CasePage(cases, int(count or 0), has_more=len(rows) > limit)


# -- requests


def _recent_case_id() -> Any:
    """The contact's most recent case (what "continue" offers), for each request row."""
    return (
        select(_Earlier.id)
        .where(_Earlier.contact_id == RequestRow.contact_id)
        .order_by(_Earlier.opened_at.desc(), _Earlier.id.desc())
        .limit(1)
        .correlate(RequestRow)
        .scalar_subquery()
    )


def _visible(excluded: Collection[int]) -> ColumnElement[bool]:
    """Pending, and not offered to someone else (round robin) unless overdue. The ids are
    rendered into the statement: as many as a flood brings, beyond any bound-parameter limit."""
    pending = RequestRow.status == "pending"
    if not excluded:
        return pending
    ids: Any = bindparam("excluded_ids", sorted(excluded), expanding=True, literal_execute=True)
    return and_(pending, or_(RequestRow.overdue.is_(True), RequestRow.id.not_in(ids)))


async def _waiting(
    session: AsyncSession, where: ColumnElement[bool], limit: int
) -> Sequence[WaitingRequest]:
    page = (
        select(RequestRow.id.label("id"), _recent_case_id().label("recent_case_id"))
        .where(where)
        .order_by(RequestRow.created_at, RequestRow.id)
        .limit(limit)
        .subquery()
    )
    query = (
        select(RequestRow, ContactRow.number, ContactRow.opted_out, LineRow, MessageRow.text,
               MessageRow.is_text, MessageRow.placeholder_reason, _RecentCase,
               _CaseContact.number, _CaseContact.opted_out, _CaseLine, _Agent.username,
               _Closer.username)
        .join(page, page.c.id == RequestRow.id)
        .join(ContactRow, ContactRow.id == RequestRow.contact_id)
        .outerjoin(LineRow, LineRow.id == RequestRow.line_id)
        .outerjoin(MessageRow, MessageRow.id == RequestRow.message_id)
        .outerjoin(_RecentCase, _RecentCase.id == page.c.recent_case_id)
        .outerjoin(_CaseContact, _CaseContact.id == _RecentCase.contact_id)
        .outerjoin(_CaseLine, _CaseLine.id == _RecentCase.line_id)
        .outerjoin(_Agent, _Agent.id == _RecentCase.agent_id)
        .outerjoin(_Closer, _Closer.id == _RecentCase.closed_by)
        .order_by(RequestRow.created_at, RequestRow.id)
    )
    found = []
    for (request, number, opted_out, line, text, is_text, placeholder, case, case_number,
         case_opted_out, case_line, agent, closed_by) in (await session.execute(query)).all():
        recent = None
        if case is not None:
            recent = _listed_case(case, case_number, case_opted_out, case_line, agent, closed_by)
        found.append(WaitingRequest(
            request=convert.request(request, number),
            line=convert.line(line) if line is not None else None,
            text=text, is_text=bool(is_text) if is_text is not None else True,
            placeholder_reason=placeholder, opted_out=bool(opted_out), recent_case=recent,
        ))
    return found


async def request_page(
    session: AsyncSession, *, limit: int, after: int | None, excluded: Collection[int] = ()
) -> RequestPage:
    """Oldest first (created_at, then id); `after` is a request id, answered or not: the page
    starts after it. `excluded`: ids not shown (offered to another agent) unless overdue."""
    where = _visible(excluded)
    page_where = where
    if after is not None:
        anchor = (await session.execute(
            select(RequestRow.created_at, RequestRow.id).where(RequestRow.id == after)
        )).one_or_none()
        if anchor is None:
            raise NotFoundError("request", after)
        at, anchor_id = anchor
        page_where = and_(where, or_(
            RequestRow.created_at > at, and_(RequestRow.created_at == at, RequestRow.id > anchor_id)
        ))
    rows = await _waiting(session, page_where, limit + 1)
    requests = tuple(rows[:limit])
    count = await session.scalar(select(func.count()).select_from(RequestRow).where(where))
    if after is None:
        oldest = requests[0] if requests else None
    else:
        first = await _waiting(session, where, 1)
        oldest = first[0] if first else None
    return RequestPage(requests, int(count or 0), oldest, has_more=len(rows) > limit)


async def pending_count(session: AsyncSession) -> int:
    count = await session.scalar(
        select(func.count()).select_from(RequestRow).where(RequestRow.status == "pending")
    )
    return int(count or 0)

