"""The agents' lists, a page at a time: the request queue (oldest first) and cases (newest
first). Each page is read in a fixed number of statements, so a flood of texts makes the queue
longer, not the answer slower (see gateway.store.listing)."""

from __future__ import annotations

from dataclasses import replace

from gateway.service.phone import reply_address_of
from gateway.service.views import (
    CaseSummary,
    CaseView,
    RequestPageView,
    RequestView,
    sender_view_of,
)
from gateway.store.domain import ListedCase, RequestPage, WaitingRequest

PREVIEW_CHARS = 160
# A client that names no page size gets this many: the queue's oldest requests, and as many
# cases as the list answered before it was paged.
DEFAULT_REQUESTS_PAGE = 100
DEFAULT_CASES_PAGE = 200
MAX_PAGE = 500


def case_view(listed: ListedCase) -> CaseView:
    case = listed.case
    address_error = None
    if case.address_status == "error":
        # An error is stored where the address would be; the view shows it as the error.
        address_error, case = case.address, replace(case, address=None)
    return CaseView(case=case, agent=listed.agent, closed_by=listed.closed_by, line=listed.line,
                    opted_out=listed.opted_out, address_error=address_error,
                    sender=sender_view_of(reply_address_of(case.phone, listed.address)))


def request_view(waiting: WaitingRequest) -> RequestView:
    preview = ""
    if waiting.request.message_id is not None:
        preview = (waiting.text if waiting.is_text and waiting.text is not None
                   else f"[{waiting.placeholder_reason or 'not a text message'}]")
    recent = waiting.recent_case
    summary = None
    if recent is not None:
        summary = CaseSummary(
            id=recent.case.id, status=recent.case.status, opened_at=recent.case.opened_at,
            closed_at=recent.case.closed_at, closed_by=recent.closed_by, agent=recent.agent,
        )
    away = None
    if recent is not None and waiting.request.case_id == recent.case.id:
        away = recent.agent  # a text in an away agent's open case (see raise_for_case)
    return RequestView(request=waiting.request, line=waiting.line,
                       preview=preview[:PREVIEW_CHARS], recent_case=summary,
                       opted_out=waiting.opted_out, away_agent=away,
                       sender=sender_view_of(reply_address_of(waiting.request.phone,
                                                              waiting.address)))


def request_page_view(page: RequestPage) -> RequestPageView:
    return RequestPageView(
        requests=tuple(request_view(w) for w in page.requests), count=page.count,
        oldest=request_view(page.oldest) if page.oldest is not None else None,
        has_more=page.has_more,
    )
