"""Turns the store's logged events into bus events; the one place the pipeline publishes."""

from __future__ import annotations

from collections.abc import Iterable

from gateway.bus import BusEvent, EventBus
from gateway.store import Event


class Publisher:
    def __init__(self, bus: EventBus) -> None:
        self._bus = bus

    def publish(self, events: Iterable[Event | None]) -> None:
        for event in events:
            if event is not None:
                self._bus.publish(BusEvent(seq=event.seq, type=event.type, data=event.data))
