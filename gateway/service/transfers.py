"""Transfers: the assigned agent hands a case to an available colleague, who accepts or
declines, or back to the queue, where answering the request takes the case over. Until then the
case stays with the agent who offered it. Nothing is sent to the customer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Literal

from gateway.bus import Publisher
from gateway.service import access
from gateway.service.access import Principal
from gateway.service.chat import ChatService
from gateway.service.errors import (
    AlreadyAnsweredError,
    CaseClosedError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from gateway.service.views import AnswerView, CaseView
from gateway.store import errors as store_errors
from gateway.store.domain import User
from gateway.store.store import Store
from gateway.store.transfers import Transfer

MAX_TRANSFER_NOTE_CHARS = 1000

# Whether a user may take work now: returns, or raises ConflictError saying why.
Availability = Callable[[int], Awaitable[None]]


class TransferService:
    def __init__(
        self,
        *,
        store: Store,
        chat: ChatService,
        publisher: Publisher,
        clock: Callable[[], datetime],
        offerable: Availability,
        can_take: Availability,
    ) -> None:
        self._store = store
        self._chat = chat
        self._publisher = publisher
        self._clock = clock
        self._offerable = offerable
        self._can_take = can_take

    async def offer(
        self, principal: Principal, case_id: int, *, agent: str | None, queue: bool,
        note: str | None,
    ) -> Transfer:
        access.require_scope(principal, "cases:write")
        view = await self._chat.get_case(principal, case_id)
        case = view.case
        if case.agent_id != principal.user_id and not principal.sees_all_cases:
            raise PermissionDeniedError(f"case {case_id} is assigned to another agent")
        if case.status != "open":
            raise CaseClosedError(f"case {case_id} is closed")
        if (agent is None) == (not queue):
            raise InvalidInputError('give either "agent" (a username) or "queue": true')
        note = (note or "").strip() or None
        if note is not None and len(note) > MAX_TRANSFER_NOTE_CHARS:
            raise InvalidInputError(f"a transfer note is at most {MAX_TRANSFER_NOTE_CHARS} "
                                    "characters")
        target_id: int | None = None
        if agent is not None:
            user = await self._store.accounts.get_user_by_name(agent)
            if user is None or user.disabled:
                raise InvalidInputError(f"no active user named {agent!r}", code="unknown_user")
            if user.id == case.agent_id:
                raise InvalidInputError(f"case {case_id} is already {agent}'s")
            await self._offerable(user.id)
            target_id = user.id
        where = f"to {agent}" if agent is not None else "back to the queue"
        text = f"Transfer {where} by {principal.username}" + (f": {note}" if note else "")
        try:
            change = await self._store.transfers.offer(
                case_id, principal.user_id, to_agent_id=target_id, note=note,
                timeline_text=text, now=self._clock(),
            )
        except store_errors.InvalidTransitionError as error:
            raise CaseClosedError(f"case {case_id} is closed") from error
        except store_errors.ConflictError as error:
            raise ConflictError(str(error), code="transfer_pending") from error
        self._publisher.publish(change.events)
        return change.transfer

    async def _offered(self, principal: Principal, case_id: int) -> Transfer:
        transfer = await self._store.transfers.pending_for_case(case_id)
        if transfer is None or transfer.to_agent_id != principal.user_id:
            raise NotFoundError(f"no transfer of case {case_id} waits for you")
        return transfer

    async def accept(self, principal: Principal, case_id: int) -> CaseView:
        access.require_scope(principal, "requests:answer")
        transfer = await self._offered(principal, case_id)
        await self._can_take(principal.user_id)
        try:
            change = await self._store.transfers.accept(transfer.id, principal.user_id,
                                                        self._clock())
        except store_errors.NotFoundError as error:
            raise NotFoundError(f"no transfer of case {case_id} waits for you") from error
        except store_errors.InvalidTransitionError as error:
            raise CaseClosedError(f"case {case_id} was closed meanwhile") from error
        self._publisher.publish(change.events)
        return await self._chat.get_case(principal, case_id)

    async def decline(self, principal: Principal, case_id: int) -> Transfer:
        access.require_scope(principal, "requests:answer")
        transfer = await self._offered(principal, case_id)
        change = await self._store.transfers.decline(transfer.id, principal.user_id,
                                                     self._clock())
        self._publisher.publish(change.events)
        return change.transfer

    async def targets(self, principal: Principal) -> list[User]:
        """The colleagues a case may be offered to now."""
        found = []
        for user in await self._store.accounts.list_users():
            if user.disabled or user.id == principal.user_id:
                continue
            try:
                await self._offerable(user.id)
            except ConflictError:
                continue
            found.append(user)
        return found

    async def waiting_for(self, principal: Principal) -> list[Transfer]:
        return await self._store.transfers.pending_for_agent(principal.user_id)

    async def answer(
        self, principal: Principal, request_id: int, action: Literal["new", "continue"],
        case_id: int | None = None,
    ) -> AnswerView:
        """Answering a request (by an agent under their cap): a case handed back to the
        queue is taken over as it is; any other request is answered as usual."""
        access.require_scope(principal, "requests:answer")
        await self._can_take(principal.user_id)
        transfer = await self._store.transfers.pending_for_request(request_id)
        if transfer is None:
            return await self._chat.answer(principal, request_id, action, case_id)
        try:
            change = await self._store.transfers.accept(
                transfer.id, principal.user_id, self._clock(), request_id=request_id)
        except store_errors.RequestAlreadyHandledError as error:
            raise AlreadyAnsweredError(
                f"request {request_id} was already answered by another agent") from error
        except (store_errors.NotFoundError, store_errors.InvalidTransitionError) as error:
            raise AlreadyAnsweredError(f"request {request_id} is no longer waiting") from error
        self._publisher.publish(change.events)
        view = await self._chat.get_case(principal, transfer.case_id)
        history = await self._chat.history(principal, transfer.case_id, None, 50)
        return AnswerView(view, history)

    async def on_close(self, case_id: int, _by: int) -> None:
        """A closed case's waiting transfer ends (its queue request stops ringing)."""
        self._publisher.publish(await self._store.transfers.cancel_for_case(case_id,
                                                                            self._clock()))
