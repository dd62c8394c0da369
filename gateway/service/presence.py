"""Who has a console open: each agent's websockets on this node and, in a cluster, the agents
the other nodes say have one (from the heartbeat, gateway.cluster.member); since when each is
away; and the round-robin rotation over the agents online anywhere.

Routing asks it whether an agent is there (a text in an away agent's case rings the others),
round robin offers work to the agents in its rotation, and the floor shows who is online. In a
cluster an agent is online while a console is open on any live node, so a text that comes in on
one node's line does not ring the others for an agent who is working on another node.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import UTC, datetime


class Presence:
    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self._clock = clock or (lambda: datetime.now(UTC))
        self._started = self._clock()
        self._left: dict[int, datetime] = {}  # when each user's last console closed
        self._connections: dict[int, int] = {}  # consoles open on this node
        self._elsewhere: frozenset[int] = frozenset()  # online on another node of the cluster
        self._logged_out: set[int] = set()  # left on purpose: away at once, no grace
        self._rotation: list[int] = []  # online users, in the order they came online
        self._last: int | None = None  # the user offered to last
        # Who may be offered work (presence and capacity); everyone online by default.
        self.eligible: Callable[[int], bool] = lambda _user_id: True
        # Called when a user's first console here opens or the last one closes (a cluster node
        # then tells the others at once instead of at its next heartbeat).
        self.on_change: Callable[[], None] = lambda: None

    def connected(self, user_id: int) -> None:
        self._logged_out.discard(user_id)
        count = self._connections.get(user_id, 0) + 1
        self._connections[user_id] = count
        if user_id not in self._rotation:
            self._rotation.append(user_id)
        if count == 1:
            self.on_change()

    def disconnected(self, user_id: int) -> None:
        left = self._connections.get(user_id, 0) - 1
        if left > 0:
            self._connections[user_id] = left
            return
        self._connections.pop(user_id, None)
        if user_id not in self._elsewhere:
            self._went(user_id)
        self.on_change()

    def set_elsewhere(self, users: Collection[int]) -> None:
        """The users with a console open on another live node (a cluster's heartbeat)."""
        now_elsewhere = frozenset(users)
        for user_id in self._elsewhere - now_elsewhere:
            if user_id not in self._connections:
                self._went(user_id)
        for user_id in now_elsewhere - self._elsewhere:
            if user_id not in self._rotation:
                self._rotation.append(user_id)
        self._elsewhere = now_elsewhere

    def left_deliberately(self, user_id: int) -> None:
        """The user logged out (or lost access): once no console of theirs is open, they are
        away at once, without the grace a dropped connection gets."""
        self._logged_out.add(user_id)

    def logged_out(self, user_id: int) -> bool:
        return user_id in self._logged_out and not self.is_online(user_id)

    def local_consoles(self) -> dict[int, int]:
        """User id -> consoles open on this node."""
        return dict(self._connections)

    def _went(self, user_id: int) -> None:
        self._left[user_id] = self._clock()
        if user_id in self._rotation:
            self._rotation.remove(user_id)

    def away_s(self, user_id: int) -> float | None:
        """Seconds since the user last had a console open anywhere (since the start when
        never); None while one is open."""
        if self.is_online(user_id):
            return None
        since = self._left.get(user_id, self._started)
        return (self._clock() - since).total_seconds()

    def is_online(self, user_id: int) -> bool:
        return user_id in self._connections or user_id in self._elsewhere

    @property
    def online(self) -> frozenset[int]:
        return frozenset(self._connections) | self._elsewhere

    def next_agent(self, exclude: int | None = None) -> int | None:
        """The online user after the one offered to last, skipping `exclude` unless nobody
        else is online."""
        if not self._rotation:
            return None
        start = 0
        if self._last in self._rotation:
            start = self._rotation.index(self._last) + 1
        turn = [user for user in self._rotation[start:] + self._rotation[:start]
                if self.eligible(user)]
        if not turn:
            return None
        chosen = next((user for user in turn if user != exclude), turn[0])
        self._last = chosen
        return chosen
