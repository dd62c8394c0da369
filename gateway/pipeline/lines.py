"""Line state: the supervisors' latest word on each modem, mirrored to the store and the bus.

`on_state` is called synchronously by a supervisor; the writes happen in one task per line so
they keep their order and never block the modem.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import asdict

import structlog

from gateway.modem.model import LineState
from gateway.pipeline.publish import Publisher
from gateway.store import Store, StoreError

log = structlog.get_logger("gateway.pipeline.lines")


def line_details(state: LineState) -> dict[str, object]:
    """The part of a line's state that the API and the console show."""
    return {
        "status": state.status,
        "since": state.since.isoformat(),
        "signal": state.signal_dbm,
        "signal_dbm": state.signal_dbm,
        "signal_csq": state.signal_csq,
        "registration": state.registration,
        "can_send": state.can_send,
        "last_error": state.last_error,
        "device": state.device,
        "identity": asdict(state.identity),
    }


def _shown(state: LineState) -> tuple[object, ...]:
    # Signal in 5 dBm steps: a line strip does not need every flicker of the radio.
    signal = None if state.signal_dbm is None else state.signal_dbm // 5
    return (state.status, state.registration, state.can_send, signal, state.last_error)


class LineBoard:
    """The latest state of every line, for senders (`can_send`) and the API (`snapshot`)."""

    def __init__(self, store: Store, publisher: Publisher, line_ids: dict[str, int]) -> None:
        self._store = store
        self._publisher = publisher
        self._line_ids = line_ids
        self._states: dict[str, LineState] = {}
        self._pending: dict[str, asyncio.Queue[LineState]] = {}
        self._writers: dict[str, asyncio.Task[None]] = {}
        self._listeners: list[Callable[[LineState], None]] = []
        self._published: dict[str, tuple[object, ...]] = {}

    def state(self, name: str) -> LineState | None:
        return self._states.get(name)

    def can_send(self, name: str) -> bool:
        state = self._states.get(name)
        return state is not None and state.can_send

    def snapshot(self) -> dict[str, LineState]:
        return dict(self._states)

    def listen(self, callback: Callable[[LineState], None]) -> Callable[[], None]:
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback)

    def on_state(self, state: LineState) -> None:
        self._states[state.name] = state
        for callback in tuple(self._listeners):
            callback(state)
        queue = self._pending.get(state.name)
        if queue is None:
            queue = self._pending[state.name] = asyncio.Queue()
            self._writers[state.name] = asyncio.get_running_loop().create_task(
                self._write_loop(state.name, queue), name=f"line-state-{state.name}"
            )
        queue.put_nowait(state)

    async def close(self) -> None:
        for task in self._writers.values():
            task.cancel()
        await asyncio.gather(*self._writers.values(), return_exceptions=True)
        self._writers.clear()
        self._pending.clear()

    async def _write_loop(self, name: str, queue: asyncio.Queue[LineState]) -> None:
        line_id = self._line_ids[name]
        while True:
            state = await queue.get()
            while not queue.empty():  # only the newest state matters
                state = queue.get_nowait()
            try:
                identity = state.identity
                if identity.iccid or identity.imsi or identity.imei:
                    await self._store.lines.update_identity(
                        line_id, iccid=identity.iccid, imsi=identity.imsi, imei=identity.imei,
                        model=identity.model,
                    )
                details = line_details(state)
                update = await self._store.lines.set_status(line_id, state.status, details=details)
                event = update.event
                shown = _shown(state)
                if event is None and self._published.get(name) != shown:
                    # Same status, but what the line strip shows (signal, registration) moved.
                    event = await self._store.events.append(
                        "line.status", {"id": line_id, "name": name, "number": update.line.number,
                                        **details}
                    )
                self._published[name] = shown
            except StoreError as error:
                log.error("line.state_not_stored", line=name, error=str(error))
                continue
            self._publisher.publish([event])
