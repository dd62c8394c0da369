"""What agents do: see the queue, answer, start chats, read history, send, close, hand back,
reassign.

Nothing here sends an SMS by itself: the only path to the outbound queue is `send`, which an
agent's Send calls.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from typing import Literal

from gateway.bus import Publisher
from gateway.log import get_logger
from gateway.service import access, lists
from gateway.service.access import Principal
from gateway.service.address import AddressProvider, search_address
from gateway.service.errors import (
    AlreadyAnsweredError,
    CaseClosedError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    TextTooLongError,
)
from gateway.service.optout import has_opt_out_hint
from gateway.service.outbox import encode_text
from gateway.service.phone import (
    cannot_reply_reason,
    dial_address,
    own_line_reason,
    reply_address,
)
from gateway.service.routing import Router
from gateway.service.settings import ChatSettings
from gateway.service.views import (
    AnswerView,
    CasePageView,
    CaseView,
    HistoryEntry,
    HistoryPage,
    RequestPageView,
    RequestView,
    SendResult,
    sender_view,
)
from gateway.service.wrapup import check_wrap_up
from gateway.sms.counter import count_segments
from gateway.sms.model import PduError
from gateway.store import errors as store_errors
from gateway.store.domain import Case, CaseChange, Line, User
from gateway.store.store import Store

log = get_logger(__name__)
MAX_HISTORY_PAGE = 200


class ChatService:
    def __init__(
        self,
        *,
        store: Store,
        publisher: Publisher,
        router: Router,
        address_provider: AddressProvider,
        settings: ChatSettings,
        clock: Callable[[], datetime],
        wake_outbound: Callable[[], None],
    ) -> None:
        self._store = store
        self._cases = store.cases
        self._requests = store.requests
        self._accounts = store.accounts
        self._publisher = publisher
        self._router = router
        self._address = address_provider
        self._settings = settings
        self._clock = clock
        self._wake_outbound = wake_outbound
        self._background: set[asyncio.Task[Case]] = set()
        # Called with the case id and who closed it after each close (transfers end, wrap-up
        # time starts).
        self.close_hooks: list[Callable[[int, int], Awaitable[None]]] = []

    async def close(self) -> None:
        """Cancel address searches still running."""
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        self._background.clear()

    # -- helpers

    async def _users(self) -> dict[int, User]:
        return {user.id: user for user in await self._accounts.list_users()}

    async def _lines(self) -> dict[int, Line]:
        return {line.id: line for line in await self._store.lines.list_all()}

    async def _case(self, case_id: int) -> Case:
        case = await self._cases.get(case_id)
        if case is None:
            raise NotFoundError(f"There is no case #{case_id}.")
        return case

    async def _case_view(self, case: Case) -> CaseView:
        users = await self._users()
        lines = await self._lines()
        contact = await self._store.contacts.get(case.contact_id)
        address, error = case.address, None
        waiting = (await self._store.waiting.since([case.id])).get(case.id)
        overdue = waiting is not None and (
            (self._clock() - waiting).total_seconds() >= self._settings.reply_overdue_s)
        if case.address_status == "error":
            address, error = None, case.address
        return CaseView(
            case=case if address == case.address else replace(case, address=address),
            agent=users[case.agent_id].username if case.agent_id in users else None,
            closed_by=users[case.closed_by].username if case.closed_by in users else None,
            line=lines.get(case.line_id) if case.line_id is not None else None,
            opted_out=contact.opted_out,
            address_error=error,
            contact_name=contact.name,
            waiting_since=waiting,
            reply_overdue=overdue,
            sender=sender_view(contact),
        )

    def _publish(self, change: CaseChange) -> None:
        self._publisher.publish(change.events)

    # -- requests

    async def list_requests(
        self, principal: Principal, limit: int = lists.DEFAULT_REQUESTS_PAGE,
        after: int | None = None,
    ) -> RequestPageView:
        """A page of the queue, oldest first. In round-robin mode an agent sees the requests
        offered to them, those offered to nobody, and overdue ones."""
        access.require_scope(principal, "requests:read")
        if not 1 <= limit <= lists.MAX_PAGE:
            raise InvalidInputError(f"limit must be 1 to {lists.MAX_PAGE}")
        excluded: set[int] = set()
        if self._settings.routing_mode == "round_robin" and not principal.sees_all_cases:
            excluded = self._router.offered_to_others(principal.user_id)
        try:
            page = await self._requests.pending_page(limit=limit, after=after, excluded=excluded)
        except store_errors.NotFoundError as error:
            raise InvalidInputError(f"after: no request {after}") from error
        return await self._with_desk_requests(lists.request_page_view(page))

    async def _with_desk_requests(self, view: RequestPageView) -> RequestPageView:
        """The contact names the queue shows, in one query for the page."""
        shown = [*view.requests, *([view.oldest] if view.oldest else [])]
        names = {c.id: c.name for c in (await self._store.contact_details.by_ids(
            list({r.request.contact_id for r in shown}))).values()}

        def named(r: RequestView) -> RequestView:
            return replace(r, contact_name=names.get(r.request.contact_id))

        return replace(view, requests=tuple(named(r) for r in view.requests),
                       oldest=named(view.oldest) if view.oldest else None)

    async def _with_desk_cases(self, views: tuple[CaseView, ...]) -> tuple[CaseView, ...]:
        """Contact names and waiting customers for a page of cases, in two queries."""
        names = {c.id: c.name for c in (await self._store.contact_details.by_ids(
            list({v.case.contact_id for v in views}))).values()}
        waiting = await self._store.waiting.since([v.case.id for v in views])
        now = self._clock()
        return tuple(replace(
            v, contact_name=names.get(v.case.contact_id), waiting_since=waiting.get(v.case.id),
            reply_overdue=v.case.id in waiting and (
                now - waiting[v.case.id]).total_seconds() >= self._settings.reply_overdue_s,
        ) for v in views)

    async def answer(
        self,
        principal: Principal,
        request_id: int,
        action: Literal["new", "continue"],
        case_id: int | None = None,
    ) -> AnswerView:
        access.require_scope(principal, "requests:answer")
        request = await self._requests.get(request_id)
        if request is None:
            raise NotFoundError("This request is no longer waiting: it was answered or withdrawn.")
        continue_id = None
        if action == "continue":
            recent = await self._cases.most_recent(request.contact_id)
            continue_id = case_id if case_id is not None else (recent.id if recent else None)
            if continue_id is None:
                raise InvalidInputError("this number has no earlier case to continue",
                                        code="no_case_to_continue")
        elif case_id is not None:
            raise InvalidInputError('case_id is only given with action "continue"')
        try:
            outcome = await self._requests.answer_request(
                request_id, principal.user_id, self._clock(), continue_case_id=continue_id
            )
        except store_errors.RequestAlreadyHandledError as error:
            raise AlreadyAnsweredError(await self._taken_by(request_id, error.status)) from error
        except store_errors.NotFoundError as error:
            raise NotFoundError("The case to continue no longer exists.") from error
        except store_errors.ConflictError as error:
            raise ConflictError(
                "This customer already has an open case: it is in the supervisor's list."
            ) from error
        self._publisher.publish(outcome.events)
        case = await self._search_address(outcome.case)
        view = await self._case_view(case)
        return AnswerView(view, await self.history(principal, case.id, None, 50))

    async def _taken_by(self, request_id: int, status: str) -> str:
        """Tell the agent who lost an answer race who took the customer."""
        request = await self._requests.get(request_id)
        who = None
        if request is not None and request.answered_by is not None:
            who = (await self._users()).get(request.answered_by)
        if status == "answered":
            taker = who.username if who is not None else "another agent"
            return f"{taker} answered this customer first; the chat is in their cases."
        return "This request is no longer waiting: the customer's texts are already in a case."

    async def _search_address(self, case: Case) -> Case:
        """Start the search; wait a moment for it so a quick directory fills the answer."""
        task = asyncio.create_task(self._run_address_search(case))
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        done, _ = await asyncio.wait({task}, timeout=self._settings.answer_address_wait_s)
        if task in done and not task.cancelled() and task.exception() is None:
            return task.result()
        return case

    async def _run_address_search(self, case: Case) -> Case:
        result = await search_address(self._address, case.phone, self._settings.address_timeout_s)
        address = result.address if result.status == "found" else result.error
        try:
            change = await self._cases.set_address(case.id, result.status, address, self._clock())
        except store_errors.StoreError as error:
            log.warning("address search result not stored", case_id=case.id, error=str(error))
            return case
        self._publish(change)
        return change.case

    # -- cases

    async def start_chat(
        self, principal: Principal, phone: str, line_name: str | None
    ) -> tuple[CaseView, bool]:
        """Agent-initiated chat: the number's open case (whoever has it) or a new one."""
        access.require_scope(principal, "cases:write")
        all_lines = await self._store.lines.list_all()
        reason = own_line_reason(phone, all_lines, self._settings.default_region)
        if reason is not None:
            raise InvalidInputError(reason, code="own_number")
        known = await self._store.contacts.find_by_number(phone)
        if known is not None and known.address is not None:
            # A number the network gave (e.g. one too short to read): write to it as it wrote.
            dialled = reply_address(known)
        else:
            dialled = dial_address(phone, self._settings.default_region)
        number = dialled.number
        line_id = None
        if line_name is not None:
            line = await self._store.lines.find_by_name(line_name)
            if line is None:
                raise InvalidInputError(f"no line named {line_name!r}", code="unknown_line")
            line_id = line.id
        else:
            # The line a Send will use, shown on the case from the start.
            line_id = all_lines[0].id if all_lines else None
        contact = await self._store.contacts.ensure(
            known.number if known is not None else number, self._clock(),
            dialled=(dialled.number, dialled.type.ton, dialled.npi),
        )
        try:
            change = await self._cases.open_case(contact.id, line_id, principal.user_id,
                                                 self._clock())
        except store_errors.CaseAlreadyOpenError:
            # Another agent opened it a moment ago: reuse it, never a second one.
            change = await self._cases.open_case(contact.id, line_id, principal.user_id,
                                                 self._clock())
        self._publish(change)
        case = change.case
        if change.created:
            case = await self._search_address(case)
        elif not access.can_view_case(principal, case):
            holder = (await self._users()).get(case.agent_id or 0)
            name = holder.username if holder is not None else "another agent"
            raise ConflictError(
                f"{number} is already in a chat with {name} (case #{case.id}).",
                code="case_open_elsewhere",
            )
        return await self._case_view(case), change.created

    async def get_case(self, principal: Principal, case_id: int) -> CaseView:
        access.require_scope(principal, "cases:read")
        case = await self._case(case_id)
        access.require_case_access(principal, case)
        return await self._case_view(case)

    async def list_cases(
        self,
        principal: Principal,
        status: Literal["open", "closed"] | None,
        mine: bool,
        limit: int = lists.DEFAULT_CASES_PAGE,
        before: int | None = None,
    ) -> CasePageView:
        """A page of cases, newest first; agents get only their own."""
        access.require_scope(principal, "cases:read")
        if not 1 <= limit <= lists.MAX_PAGE:
            raise InvalidInputError(f"limit must be 1 to {lists.MAX_PAGE}")
        only_mine = mine or not principal.sees_all_cases
        try:
            page = await self._cases.case_page(
                status=status, agent_id=principal.user_id if only_mine else None, limit=limit,
                before=before,
            )
        except store_errors.NotFoundError as error:
            raise InvalidInputError(f"before: no case {before}") from error
        views = await self._with_desk_cases(tuple(lists.case_view(c) for c in page.cases))
        return CasePageView(views, page.count, page.has_more)

    async def history(
        self, principal: Principal, case_id: int, before: int | None, limit: int
    ) -> HistoryPage:
        access.require_scope(principal, "cases:read")
        case = await self._case(case_id)
        access.require_case_access(principal, case)
        if not 1 <= limit <= MAX_HISTORY_PAGE:
            raise InvalidInputError(f"limit must be 1 to {MAX_HISTORY_PAGE}")
        cursor = None
        if before is not None:
            try:
                anchor = await self._store.messages.get(before)
            except store_errors.NotFoundError as error:
                raise InvalidInputError(f"before: no message {before}") from error
            if anchor.contact_id != case.contact_id:
                raise InvalidInputError(f"before: message {before} is not in this history")
            cursor = (anchor.sort_at, anchor.id)
        page = await self._store.messages.history(case.contact_id, before=cursor,
                                                  limit=limit + 1)
        has_more = len(page) > limit
        page = page[-limit:] if has_more else page
        cases = {c.id: c for c in await self._cases.list_cases(contact_id=case.contact_id,
                                                                  limit=10_000)}
        starts = await self._cases.case_starts(c for c in cases)
        users = await self._users()
        entries = []
        for message in page:
            start = message.sort_at
            if message.case_id is not None and message.case_id in cases:
                opened = cases[message.case_id].opened_at
                first = starts.get(message.case_id, opened)
                start = min(opened, first)
            hint = message.direction == "in" and has_opt_out_hint(
                message.text, self._settings.opt_out_words)
            author = users.get(message.created_by) if message.created_by is not None else None
            entries.append(HistoryEntry(message, (message.sort_at - start).total_seconds(),
                                        author.username if author is not None else None,
                                        opt_out_hint=hint))
        return HistoryPage(tuple(entries), has_more)

    async def send(
        self,
        principal: Principal,
        case_id: int,
        text: str,
        client_id: str | None,
        *,
        override_opt_out: bool = False,
    ) -> SendResult:
        access.require_scope(principal, "messages:send")
        case = await self._case(case_id)
        if case.agent_id != principal.user_id and not principal.sees_all_cases:
            raise PermissionDeniedError(
                f"Case #{case_id} is now with another agent: your message was not sent."
            )
        if client_id is not None:
            existing = await self._store.messages.find_by_client_id(client_id)
            if existing is not None:
                if existing.case_id != case_id or existing.created_by != principal.user_id:
                    raise ConflictError("client_id is already used by another message",
                                        code="client_id_reused")
                return SendResult(existing, created=False)
        if case.status != "open":
            raise CaseClosedError(
                f"Case #{case_id} is closed: start a new chat to write to this customer."
            )
        if not text.strip():
            raise InvalidInputError("The message is empty.")
        count = count_segments(text, self._settings.max_parts)
        if count.too_long:
            raise TextTooLongError(
                f"text needs {count.parts} {count.encoding} parts;"
                f" the limit is {self._settings.max_parts}"
            )
        contact = await self._store.contacts.get(case.contact_id)
        to = reply_address(contact)
        reason = cannot_reply_reason(to)
        if reason is not None:
            raise ConflictError(reason, code="cannot_reply")
        if contact.opted_out and not override_opt_out:
            raise ConflictError(
                f"{case.phone} has opted out (texted an opt-out word); confirm to send anyway",
                code="opted_out",
            )
        line_id = case.line_id
        if line_id is None:
            lines = await self._store.lines.list_all()
            if not lines:
                raise ConflictError("No line is set up to send on: ask an administrator.",
                                    code="no_line")
            line_id = lines[0].id
        try:
            encoded = encode_text(self._settings, text, to)
        except PduError as error:
            raise InvalidInputError(
                f"{to.number} cannot be written to: {error.reason}", code="invalid_address"
            ) from error
        now = self._clock()
        result = await self._store.outbound.queue_outbound(
            line_id=line_id, to=to, text=text, encoded=encoded, client_id=client_id,
            case_id=case.id, created_by=principal.user_id, now=now,
        )
        self._publisher.publish(result.events)
        if result.created:
            await self._accounts.audit(
                user_id=principal.user_id, action="message.send", target=f"case:{case.id}",
                details={"message_id": result.message.id, "parts": len(encoded.parts),
                         "via": principal.token_name or principal.via},
                now=now,
            )
            self._wake_outbound()
        return SendResult(result.message, result.created)

    async def close_case(
        self, principal: Principal, case_id: int, wrap_up: str | None = None,
        summary: str | None = None,
    ) -> CaseView:
        access.require_scope(principal, "cases:write")
        case = await self._case(case_id)
        access.require_case_owner(principal, case)
        wrap_up, summary = check_wrap_up(self._settings, wrap_up, summary)
        try:
            change = await self._cases.close_case(case_id, principal.user_id, self._clock(),
                                                  wrap_up=wrap_up, summary=summary)
        except store_errors.InvalidTransitionError as error:
            raise CaseClosedError(f"Case #{case_id} is already closed.") from error
        self._publish(change)
        for hook in self.close_hooks:
            await hook(case_id, principal.user_id)
        return await self._case_view(change.case)

    async def hand_back(self, principal: Principal, case_id: int) -> None:
        """The agent leaves: the case rings the others as a request; answering continues it."""
        access.require_scope(principal, "cases:write")
        case = await self._case(case_id)
        access.require_case_owner(principal, case)
        if case.status != "open":
            raise CaseClosedError("This case is already closed.")
        raised = await self._requests.raise_for_case(case_id, None, self._clock())
        if raised is not None:
            self._publisher.publish(raised[1])

    async def reassign(self, principal: Principal, case_id: int, username: str) -> CaseView:
        access.require_role(principal, "supervisor")
        access.require_scope(principal, "supervise")
        user = await self._accounts.get_user_by_name(username)
        if user is None or user.disabled:
            raise InvalidInputError(f"no active user named {username!r}", code="unknown_user")
        await self._case(case_id)
        change = await self._cases.reassign_case(case_id, user.id, principal.user_id,
                                                 self._clock())
        self._publish(change)
        return await self._case_view(change.case)
