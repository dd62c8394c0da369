"""Inbound routing: every customer text lands in its open case or in the request queue.

The pipeline commits a message and publishes message.created; the router (one task, so routing
is serialised) files it. At start every inbound message that is in no case and no pending
request is routed again, so a crash between the pipeline's commit and routing loses nothing.
A ticker marks requests overdue and, in round-robin mode, moves offers on.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from gateway.bus import BusEvent, EventBus, Publisher
from gateway.log import get_logger
from gateway.service.optout import is_opt_out
from gateway.service.presence import Presence
from gateway.service.settings import ChatSettings
from gateway.store.domain import Event, Message, RouteOutcome
from gateway.store.errors import StoreError, StoreUnavailableError
from gateway.store.events import EventRepository
from gateway.store.messages import MessageRepository
from gateway.store.requests import RequestsRepository

log = get_logger(__name__)
STORE_RETRY_S = 1.0


@dataclass(slots=True)
class Offer:
    agent_id: int
    offered_at: datetime


class Router:
    def __init__(
        self,
        *,
        bus: EventBus,
        requests: RequestsRepository,
        messages: MessageRepository,
        events: EventRepository,
        publisher: Publisher,
        presence: Presence,
        settings: ChatSettings,
        clock: Callable[[], datetime],
    ) -> None:
        self._bus = bus
        self._requests = requests
        self._messages = messages
        self._events = events
        self._publisher = publisher
        self._presence = presence
        self._settings = settings
        self._clock = clock
        self._queue: asyncio.Queue[int] = asyncio.Queue()
        self._unlisten: Callable[[], None] | None = None
        self.offers: dict[int, Offer] = {}
        # Texts in the case of an agent who went offline less than offline_after_s ago: they
        # ring the others when that grace ends and the agent is still away (case -> agent,
        # message). Requests raised for an away agent, withdrawn when they are back.
        self._in_grace: dict[int, tuple[int, int]] = {}
        self._away_requests: dict[int, int] = {}
        # Set when optout.confirmation_text is configured (see gateway.service.optout_confirm).
        self.confirm_opt_out: Callable[[Message, datetime], Awaitable[None]] | None = None
        # In a cluster only the node holding the duties marks requests overdue.
        self.marks_overdue: Callable[[], bool] = lambda: True

    # -- lifecycle

    def listen(self) -> None:
        """Start taking message.created from the bus; call before the startup sweep."""
        if self._unlisten is None:
            self._unlisten = self._bus.listen(self._on_event)

    def stop_listening(self) -> None:
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None

    def _on_event(self, event: BusEvent) -> None:
        data = event.data
        if (
            event.type in ("message.created", "message.updated")
            and data.get("direction") == "in"
            and data.get("case_id") is None
            and data.get("status") != "receiving"
            and isinstance(data.get("id"), int)
        ):
            self._queue.put_nowait(data["id"])

    async def run(self) -> None:
        """Route queued messages until cancelled."""
        while True:
            message_id = await self._queue.get()
            await self._route_with_retry(message_id)

    async def _route_with_retry(self, message_id: int) -> None:
        while True:
            try:
                await self.route(message_id)
                return
            except StoreUnavailableError as error:
                log.warning("routing waits for the database", message_id=message_id,
                            error=str(error))
                await asyncio.sleep(STORE_RETRY_S)
            except StoreError as error:
                log.error("message could not be routed", message_id=message_id, error=str(error))
                return
            except Exception:
                # A bug must not stop routing of everything after it; the next start's sweep
                # routes this message again.
                log.exception("message could not be routed", message_id=message_id)
                return

    async def sweep(self) -> int:
        """Route every inbound message that neither a case nor a pending request holds."""
        routed = 0
        while True:
            ids = await self._requests.unrouted_inbound(self._settings.sweep_batch)
            if not ids:
                return routed
            for message_id in ids:
                await self.route(message_id)
                routed += 1

    # -- routing

    async def route(self, message_id: int) -> RouteOutcome:
        message = await self._messages.get(message_id)
        opt_out: bool | None = None
        if is_opt_out(message.text, self._settings.opt_out_words):
            opt_out = True
        elif is_opt_out(message.text, self._settings.opt_in_words):
            opt_out = False
        now = self._clock()
        try:
            outcome = await self._requests.route_inbound(message_id, now, opt_out=opt_out)
        except IntegrityError:
            # Another process (a node of the cluster) filed a text of the same contact at the
            # same moment and its request or case is committed now: routing again finds it.
            log.info("routing lost a race; routing again", message_id=message_id)
            now = self._clock()
            outcome = await self._requests.route_inbound(message_id, now, opt_out=opt_out)
        events = outcome.events
        if outcome.kind == "attached" and outcome.case is not None:
            events += await self._ring_if_agent_away(outcome.case.id, outcome.case.agent_id,
                                                     message_id)
        if outcome.kind == "request_created" and outcome.request is not None:
            offer = self._offer(outcome.request.id)
            if offer is not None:
                # Folded into the request's own event so the offered agent's console rings.
                events = tuple(
                    replace(event, data=event.data | {"offered_to": offer.agent_id})
                    if event.type == "request.created" else event
                    for event in events
                )
        if opt_out and self.confirm_opt_out is not None:
            # Before the routing events go out, so whoever sees the message routed also sees
            # the confirmation queued.
            await self.confirm_opt_out(message, now)
        self._publisher.publish(events)
        if outcome.kind != "skipped":
            log.info("inbound message routed", message_id=message_id, outcome=outcome.kind,
                     case_id=outcome.case.id if outcome.case else None,
                     request_id=outcome.request.id if outcome.request else None)
        return outcome

    async def _ring_if_agent_away(
        self, case_id: int, agent_id: int | None, message_id: int
    ) -> tuple[Event, ...]:
        """A text in the case of an agent with no console open for `offline_after_s` rings
        the others: the customer must not wait on someone who is not there."""
        away = self._presence.away_s(agent_id) if agent_id is not None else None
        if away is None or agent_id is None:
            return ()
        if away < self._settings.offline_after_s and not self._presence.logged_out(agent_id):
            self._in_grace[case_id] = (agent_id, message_id)  # see _end_grace
            return ()
        self._in_grace.pop(case_id, None)
        raised = await self._requests.raise_for_case(case_id, message_id, self._clock())
        if raised is None:
            return ()
        request, events = raised
        self._away_requests[request.id] = agent_id
        log.info("agent away: text rings the others", case_id=case_id, agent_id=agent_id,
                 request_id=request.id, away_s=round(away))
        offer = self._offer(request.id)
        if offer is None:
            return events
        return tuple(replace(e, data=e.data | {"offered_to": offer.agent_id}) for e in events)

    # -- round robin offers

    def _offer(self, request_id: int, exclude: int | None = None) -> Offer | None:
        if self._settings.routing_mode != "round_robin":
            return None
        agent = self._presence.next_agent(exclude)
        if agent is None:
            self.offers.pop(request_id, None)
            return None
        offer = self.offers[request_id] = Offer(agent, self._clock())
        return offer

    async def pending_count(self) -> int:
        return await self._requests.pending_count()

    def offered_to(self, request_id: int) -> int | None:
        offer = self.offers.get(request_id)
        return offer.agent_id if offer is not None else None

    def offered_to_others(self, user_id: int) -> set[int]:
        """Requests offered to another agent: not in this agent's queue until overdue."""
        return {rid for rid, offer in self.offers.items() if offer.agent_id != user_id}

    async def _end_grace(self) -> None:
        """A text that came while its agent was gone for less than offline_after_s rings the
        others once that time is up, unless the agent is back (they see it in their case)."""
        for case_id, (agent_id, message_id) in list(self._in_grace.items()):
            away = self._presence.away_s(agent_id)
            if away is None:
                del self._in_grace[case_id]
            elif away >= self._settings.offline_after_s or self._presence.logged_out(agent_id):
                self._publisher.publish(
                    await self._ring_if_agent_away(case_id, agent_id, message_id))

    async def _withdraw_for_returned_agents(self) -> None:
        """An agent back online has their cases again: the requests raised because they were
        away stop ringing the others."""
        for request_id, agent_id in list(self._away_requests.items()):
            if self._presence.is_online(agent_id):
                del self._away_requests[request_id]
                events = await self._requests.withdraw(request_id, self._clock())
                if events:
                    log.info("agent back: away request withdrawn", request_id=request_id,
                             agent_id=agent_id)
                self._publisher.publish(events)

    async def tick(self) -> None:
        """Marks overdue requests, rings for texts whose agent's grace has run out, withdraws
        the rings of agents who came back, and moves stale round-robin offers on."""
        await self._end_grace()
        await self._withdraw_for_returned_agents()
        now = self._clock()
        if self.marks_overdue():
            events = await self._requests.mark_overdue(
                now - timedelta(seconds=self._settings.overdue_after_s), now
            )
            self._publisher.publish(events)
        if self._settings.routing_mode != "round_robin":
            return
        pending = {request.id for request in await self._requests.pending()}
        for request_id in list(self.offers):
            if request_id not in pending:
                del self.offers[request_id]
        stale = timedelta(seconds=self._settings.round_robin_offer_s)
        for request_id in pending:
            offer = self.offers.get(request_id)
            if offer is None or now - offer.offered_at >= stale or not (
                self._presence.is_online(offer.agent_id)
            ):
                previous = offer.agent_id if offer else None
                new = self._offer(request_id, exclude=previous)
                if new is not None and new.agent_id != previous:
                    event = await self._events.append(
                        "request.offered", {"request_id": request_id, "agent_id": new.agent_id},
                        now,
                    )
                    self._publisher.publish((event,))

    async def run_ticker(self) -> None:
        while True:
            await asyncio.sleep(self._settings.tick_interval_s)
            with contextlib.suppress(StoreUnavailableError):
                await self.tick()
