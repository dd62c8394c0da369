"""In-process publish/subscribe of logged events, so the API can push what the pipeline commits.

Events are appended to the store's event log first (they carry its sequence number); the bus only
fans them out to live subscribers. A subscriber that falls behind is dropped rather than allowed to
grow without bound: it reconnects and catches up from the log with `since`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

DEFAULT_SUBSCRIBER_QUEUE_SIZE = 1000


@dataclass(frozen=True, slots=True)
class BusEvent:
    seq: int
    type: str
    data: dict[str, Any] = field(default_factory=dict)


class SubscriberOverflowError(Exception):
    """The subscriber did not keep up; it must resynchronise from the event log."""


class Subscription:
    def __init__(self, bus: EventBus, queue_size: int) -> None:
        self._bus = bus
        self._queue: asyncio.Queue[BusEvent | None] = asyncio.Queue(queue_size)
        self.overflowed = False

    def _offer(self, event: BusEvent) -> None:
        if self.overflowed:
            return
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True
            self._queue = asyncio.Queue(1)
            self._queue.put_nowait(None)

    async def get(self) -> BusEvent:
        event = await self._queue.get()
        if event is None:
            raise SubscriberOverflowError("subscriber fell behind the event stream")
        return event

    def close(self) -> None:
        self._bus._subscriptions.discard(self)

    async def __aiter__(self) -> AsyncIterator[BusEvent]:
        while True:
            yield await self.get()


class EventBus:
    """Events this process committed go to subscribers and listeners as they are published.
    In a cluster (gateway.cluster.feed.ClusterBus) subscribers get every node's events in seq
    order instead, and listeners that ask for them (`every_node=True`) other nodes' too."""

    def __init__(self) -> None:
        self._subscriptions: set[Subscription] = set()
        self._listeners: set[Callable[[BusEvent], None]] = set()
        self._node_listeners: set[Callable[[BusEvent], None]] = set()

    def publish(self, event: BusEvent) -> None:
        self._to_subscribers(event)
        self._to_listeners(event, every_node=True)

    def _to_subscribers(self, event: BusEvent) -> None:
        for subscription in tuple(self._subscriptions):
            subscription._offer(event)

    def _to_listeners(self, event: BusEvent, *, every_node: bool) -> None:
        """`every_node`: to every listener; else only to the ones of this node's events."""
        for listener in tuple(self._listeners):
            listener(event)
        if every_node:
            for listener in tuple(self._node_listeners):
                listener(event)

    def subscribe(self, queue_size: int = DEFAULT_SUBSCRIBER_QUEUE_SIZE) -> Subscription:
        subscription = Subscription(self, queue_size)
        self._subscriptions.add(subscription)
        return subscription

    def listen(
        self, callback: Callable[[BusEvent], None], *, every_node: bool = False
    ) -> Callable[[], None]:
        """Call `callback` synchronously for every event this process commits, and with
        `every_node` for other nodes' events too (at least once, so it must not mind a repeat);
        returns the unsubscribe callable."""
        listeners = self._node_listeners if every_node else self._listeners
        listeners.add(callback)
        return lambda: listeners.discard(callback)


class LoggedEvent(Protocol):
    """An event as the store's log holds it (gateway.store.Event)."""

    @property
    def seq(self) -> int: ...

    @property
    def type(self) -> str: ...

    @property
    def data(self) -> Mapping[str, Any]: ...


class Publisher:
    """Puts logged events on the bus once their transaction has committed: the one way the
    pipeline and the service publish."""

    def __init__(self, bus: EventBus) -> None:
        self._bus = bus

    def publish(self, events: Iterable[LoggedEvent | None]) -> None:
        """Publishes in the order given; None stands for "nothing changed" and is skipped."""
        for event in events:
            if event is not None:
                self._bus.publish(BusEvent(event.seq, event.type, dict(event.data)))
