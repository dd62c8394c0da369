"""Line state: the supervisors' latest word on each modem, mirrored to the store and the bus.

`on_state` is called synchronously by a supervisor; the writes happen in one task per line so
they keep their order and never block the modem. A state that changes nothing stored or shown
(the radio's signal moving within one step, a repeated URC) is not written: a modem that
reports its signal every few seconds must not cost a commit each time. The line's last_seen is
refreshed at most every LAST_SEEN_REFRESH_S then.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import asdict, dataclass

import structlog

from gateway.bus import Publisher
from gateway.modem.model import LineState
from gateway.store import Store, StoreError

log = structlog.get_logger("gateway.pipeline.lines")

LAST_SEEN_REFRESH_S = 60.0


@dataclass(slots=True)
class _Stored:
    """What was last written for a line, to skip writes that would change nothing."""

    identity: tuple[str | None, ...] = ()
    status: str | None = None
    shown: tuple[object, ...] | None = None
    at: float = float("-inf")  # loop time of the last status write


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
        self._stored: dict[str, _Stored] = {}

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
        stored = self._stored.setdefault(name, _Stored())
        loop = asyncio.get_running_loop()
        while True:
            state = await queue.get()
            while not queue.empty():  # only the newest state matters
                state = queue.get_nowait()
            identity = state.identity
            known = (identity.iccid, identity.imsi, identity.imei, identity.model)
            shown = _shown(state)
            fresh = loop.time() - stored.at < LAST_SEEN_REFRESH_S
            if (known == stored.identity or not any(known[:3])) and (
                state.status == stored.status and shown == stored.shown and fresh
            ):
                continue
            try:
                if any(known[:3]) and known != stored.identity:
                    await self._store.lines.update_identity(
                        line_id, iccid=identity.iccid, imsi=identity.imsi, imei=identity.imei,
                        model=identity.model,
                    )
                    stored.identity = known
                if state.status == stored.status and shown == stored.shown and fresh:
                    continue
                details = line_details(state)
                update = await self._store.lines.set_status(line_id, state.status, details=details)
                event = update.event
                if event is None and stored.shown != shown:
                    # Same status, but what the line strip shows (signal, registration) moved.
                    event = await self._store.events.append(
                        "line.status", {"id": line_id, "name": name, "number": update.line.number,
                                        **details}
                    )
                stored.status, stored.shown, stored.at = state.status, shown, loop.time()
            except StoreError as error:
                log.error("line.state_not_stored", line=name, error=str(error))
                continue
            self._publisher.publish([event])
