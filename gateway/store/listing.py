"""The request queue and case lists, a page at a time in a fixed number of statements, run whole
in one read transaction (Database.run_read): the page with its contacts and texts joined in, the
most recent case of each number on it, the lines, the count, and for a page after the first the
oldest request. A flood of texts makes the count longer to take, not the queries more.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, bindparam, func, or_, select, true
from sqlalchemy.orm import aliased

from gateway.store import convert
from gateway.store.domain import (
    CasePage,
    CaseStatus,
    Line,
    ListedCase,
    RequestPage,
    WaitingRequest,
)
from gateway.store.errors import NotFoundError
from gateway.store.models import CaseRow, ContactRow, LineRow, MessageRow, RequestRow, UserRow

_Agent = aliased(UserRow)
_Closer = aliased(UserRow)
_Earlier = aliased(CaseRow)

# The contact's address as the network gave it (where replies go).
_ADDRESS = (ContactRow.address.label("contact_address"),
            ContactRow.address_ton.label("contact_ton"),
            ContactRow.address_npi.label("contact_npi"))
# Cases with what a list shows beside them; the labels are not columns of `cases`.
_CASES = (
    select(CaseRow.__table__, ContactRow.number.label("phone"),
           ContactRow.opted_out.label("contact_opted_out"), *_ADDRESS,
           _Agent.username.label("agent_name"),
           _Closer.username.label("closed_by_name"))
    .join(ContactRow, ContactRow.id == CaseRow.contact_id)
    .outerjoin(_Agent, _Agent.id == CaseRow.agent_id)
    .outerjoin(_Closer, _Closer.id == CaseRow.closed_by)
)
# The contact's most recent case (what "continue" offers), for each request row.
_RECENT_CASE_ID = (
    select(_Earlier.id)
    .where(_Earlier.contact_id == RequestRow.contact_id)
    .order_by(_Earlier.opened_at.desc(), _Earlier.id.desc())
    .limit(1)
    .correlate(RequestRow)
    .scalar_subquery()
)
# Requests with their number, the newest text joined to them, and their contact's latest case.
_REQUESTS = (
    select(RequestRow.__table__, ContactRow.number.label("phone"),
           ContactRow.opted_out.label("contact_opted_out"), *_ADDRESS,
           MessageRow.text.label("text"),
           MessageRow.is_text.label("is_text"),
           MessageRow.placeholder_reason.label("placeholder_reason"),
           _RECENT_CASE_ID.label("recent_case_id"))
    .join(ContactRow, ContactRow.id == RequestRow.contact_id)
    .outerjoin(MessageRow, MessageRow.id == RequestRow.message_id)
    .order_by(RequestRow.created_at, RequestRow.id)
)


def _lines(connection: Connection) -> dict[int, Line]:
    """Every line: a handful, cheaper in one statement than joined into each row."""
    return {row.id: convert.line(row) for row in connection.execute(select(LineRow.__table__))}


def _listed_case(row: Any, lines: dict[int, Line]) -> ListedCase:
    return ListedCase(
        case=convert.case(row, row.phone),
        line=lines.get(row.line_id) if row.line_id is not None else None,
        agent=row.agent_name, closed_by=row.closed_by_name,
        opted_out=bool(row.contact_opted_out),
        address=(row.contact_address, row.contact_ton, row.contact_npi),
    )


# -- cases


def case_page(
    connection: Connection,
    *,
    status: CaseStatus | None,
    agent_id: int | None,
    limit: int,
    before: int | None,
) -> CasePage:
    """Newest first (opened_at, then id); `before` is a case id: the page starts after it."""
    conditions: list[ColumnElement[bool]] = [true()]
    if status is not None:
        conditions.append(CaseRow.status == status)
    if agent_id is not None:
        conditions.append(CaseRow.agent_id == agent_id)
    where = and_(*conditions)
    page_where = where
    if before is not None:
        anchor = connection.execute(
            select(CaseRow.opened_at, CaseRow.id).where(CaseRow.id == before)
        ).one_or_none()
        if anchor is None:
            raise NotFoundError("case", before)
        at, anchor_id = anchor
        page_where = and_(where, or_(
            CaseRow.opened_at < at, and_(CaseRow.opened_at == at, CaseRow.id < anchor_id)
        ))
    rows = connection.execute(
        _CASES.where(page_where).order_by(CaseRow.opened_at.desc(), CaseRow.id.desc())
        .limit(limit + 1)
    ).all()
    count = connection.scalar(select(func.count()).select_from(CaseRow).where(where))
    lines = _lines(connection)
    cases = tuple(_listed_case(row, lines) for row in rows[:limit])
    return CasePage(cases, int(count or 0), has_more=len(rows) > limit)


# -- requests


def _visible(excluded: Collection[int]) -> ColumnElement[bool]:
    """Pending, and not offered to someone else (round robin) unless overdue. The ids are
    rendered into the statement: as many as a flood brings, beyond any bound-parameter limit."""
    pending = RequestRow.status == "pending"
    if not excluded:
        return pending
    ids: Any = bindparam("excluded_ids", sorted(excluded), expanding=True, literal_execute=True)
    return and_(pending, or_(RequestRow.overdue.is_(True), RequestRow.id.not_in(ids)))


def _waiting(connection: Connection, rows: Sequence[Any]) -> list[WaitingRequest]:
    """The requests of `rows` with their lines and recent cases (one statement for each)."""
    case_ids = sorted({row.recent_case_id for row in rows if row.recent_case_id is not None})
    cases: dict[int, Any] = {}
    if case_ids:
        cases = {row.id: row for row in connection.execute(
            _CASES.where(CaseRow.id.in_(case_ids)))}
    lines = _lines(connection)
    return [
        WaitingRequest(
            request=convert.request(row, row.phone), line=lines.get(row.line_id),
            text=row.text, is_text=bool(row.is_text) if row.is_text is not None else True,
            placeholder_reason=row.placeholder_reason, opted_out=bool(row.contact_opted_out),
            address=(row.contact_address, row.contact_ton, row.contact_npi),
            recent_case=(_listed_case(cases[row.recent_case_id], lines)
                         if row.recent_case_id in cases else None),
        )
        for row in rows
    ]


def request_page(
    connection: Connection, *, limit: int, after: int | None, excluded: Collection[int] = ()
) -> RequestPage:
    """Oldest first (created_at, then id); `after` is a request id, answered or not: the page
    starts after it. `excluded`: ids not shown (offered to another agent) unless overdue."""
    where = _visible(excluded)
    page_where = where
    if after is not None:
        anchor = connection.execute(
            select(RequestRow.created_at, RequestRow.id).where(RequestRow.id == after)
        ).one_or_none()
        if anchor is None:
            raise NotFoundError("request", after)
        at, anchor_id = anchor
        page_where = and_(where, or_(
            RequestRow.created_at > at, and_(RequestRow.created_at == at, RequestRow.id > anchor_id)
        ))
    rows: list[Any] = list(connection.execute(_REQUESTS.where(page_where).limit(limit + 1)))
    has_more = len(rows) > limit
    # The oldest is the first row of the first page; a later page reads it on its own.
    first: list[Any] = []
    if after is not None:
        first = list(connection.execute(_REQUESTS.where(where).limit(1)))
    count = connection.scalar(select(func.count()).select_from(RequestRow).where(where))
    waiting = _waiting(connection, first + rows[:limit])
    requests = waiting[len(first):]
    oldest = waiting[0] if waiting and (first or after is None) else None
    return RequestPage(tuple(requests), int(count or 0), oldest, has_more=has_more)


def pending_count(connection: Connection) -> int:
    count = connection.scalar(
        select(func.count()).select_from(RequestRow).where(RequestRow.status == "pending")
    )
    return int(count or 0)
