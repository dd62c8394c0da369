"""GET /api/events: the websocket that pushes logged events to consoles and agent desktops.

A client that reconnects with `?since=N` first gets every event after N from the log, then the
live stream, with no gap and no duplicate: the bus subscription is taken before the log is read,
and live events already sent from the log are skipped by seq. When N is older than the log or
the gap is too large to replay, the server sends `resync` and the client reloads its state.

A socket lives no longer than the access it was opened with: logout, disabling the user, a new
password or a new role close it at once (close code 4001), and every ACCESS_RECHECK_S its
session or token is checked again, which also catches changes made by `sms-gateway user`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from aiohttp import WSMsgType, web

from gateway.api.auth import access, authenticate, check_origin, principal
from gateway.api.bodies import query_int
from gateway.api.errors import ApiError
from gateway.api.keys import WEBSOCKETS, WORKFLOW
from gateway.bus import BusEvent, EventBus, SubscriberOverflowError, Subscription
from gateway.service.access import Principal
from gateway.service.accounts import AccessEnded
from gateway.service.event_log import EventLog
from gateway.service.visibility import EventVisibility

routes = web.RouteTableDef()
MAX_REPLAY_EVENTS = 5000
REPLAY_PAGE = 500
HEARTBEAT_S = 30.0
ACCESS_RECHECK_S = 10.0
CLOSE_ACCESS_ENDED = 4001  # application close code: log in again


class _Stream:
    def __init__(
        self,
        ws: web.WebSocketResponse,
        who: Principal,
        visibility: EventVisibility,
        log: EventLog,
        subscription: Subscription,
    ) -> None:
        self.ws = ws
        self.subscription = subscription
        self.who = who
        self.visibility = visibility
        self.log = log
        self.last_seq = 0

    async def send(self, seq: int, type_: str, data: dict[str, Any]) -> None:
        if seq and seq <= self.last_seq:
            return
        if type_ != "resync" and not await self.visibility.visible_to(self.who, type_, data):
            self.last_seq = max(self.last_seq, seq)
            return
        await self.ws.send_str(json.dumps({"seq": seq, "type": type_, "data": data}))
        self.last_seq = max(self.last_seq, seq)

    async def resync(self) -> None:
        latest = await self.log.last_seq()
        self.last_seq = 0
        await self.send(latest, "resync", {"seq": latest})

    async def replay(self, since: int) -> int:
        """Send the log after `since`; returns how many events were read."""
        first = await self.log.first_seq()
        latest = await self.log.last_seq()
        if since > latest or (first is not None and since < first - 1 and since < latest):
            await self.resync()
            return 0
        if latest - since > MAX_REPLAY_EVENTS:
            await self.resync()
            return 0
        self.last_seq = since
        count = 0
        while True:
            events = await self.log.since(self.last_seq, REPLAY_PAGE)
            if not events:
                return count
            for event in events:
                await self.send(event.seq, event.type, dict(event.data))
                count += 1

    async def live(self, bus: EventBus) -> None:
        while True:
            try:
                event: BusEvent = await self.subscription.get()
            except SubscriberOverflowError:
                # Fell behind the bus: take a new subscription and catch up from the log.
                self.subscription.close()
                self.subscription = bus.subscribe()
                await self.replay(self.last_seq)
                continue
            await self.send(event.seq, event.type, dict(event.data))


async def _close_when_access_ends(
    request: web.Request, ws: web.WebSocketResponse, who: Principal, ended: asyncio.Event
) -> None:
    while True:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(ACCESS_RECHECK_S):
                await ended.wait()
        if not ended.is_set():
            try:
                still = await authenticate(request)
            except ApiError:
                still = None
            except Exception:
                continue  # the database did not answer: ask again later
            if still is not None and (still.principal.user_id, still.principal.role) == (
                who.user_id, who.role
            ):
                continue
        await ws.close(code=CLOSE_ACCESS_ENDED, message=b"access ended: log in again")
        return


@routes.get("/api/events")
@access(scope="events:read")
async def events(request: web.Request) -> web.StreamResponse:
    who = principal(request)
    check_origin(request, required=who.via == "session")
    since = query_int(request, "since", default=None, low=0, high=2**62)
    workflow = request.app[WORKFLOW]
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_S)
    await ws.prepare(request)
    sockets = request.app[WEBSOCKETS]
    sockets.add(ws)
    ended = asyncio.Event()

    def access_ended(change: AccessEnded) -> None:
        if change.user_id == who.user_id and change.session_id in (None, who.session_id):
            ended.set()

    unsubscribe = workflow.accounts.on_access_ended(access_ended)
    closer = asyncio.create_task(_close_when_access_ends(request, ws, who, ended))
    workflow.presence.connected(who.user_id)
    stream = _Stream(ws, who, workflow.visibility, workflow.event_log,
                     workflow.bus.subscribe())
    writer: asyncio.Task[None] | None = None
    try:
        if since is not None:
            replayed = await stream.replay(since)
        else:
            stream.last_seq = await workflow.event_log.last_seq()
            replayed = 0
        await ws.send_str(json.dumps(
            {"seq": stream.last_seq, "type": "ready", "data": {"replayed": replayed}}
        ))
        writer = asyncio.create_task(stream.live(workflow.bus))
        async for message in ws:
            if message.type == WSMsgType.TEXT and message.data == "ping":
                await ws.send_str(json.dumps({"seq": stream.last_seq, "type": "pong",
                                              "data": {}}))
    except ConnectionResetError:
        pass
    finally:
        unsubscribe()
        for task in (writer, closer):
            if task is None:
                continue
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionResetError, Exception):
                await task
        stream.subscription.close()
        workflow.presence.disconnected(who.user_id)
        sockets.discard(ws)
        await ws.close()
    return ws
