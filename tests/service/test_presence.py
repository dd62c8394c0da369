"""Presence: an agent is online while a console is open on this node or, in a cluster, on any
other live node; away time counts from when the last one anywhere closed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gateway.service.presence import Presence


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def test_an_agent_with_a_console_on_another_node_is_online_and_not_away() -> None:
    clock = Clock()
    presence = Presence(clock)
    clock.advance(600)
    presence.set_elsewhere({7})
    assert presence.is_online(7)
    assert presence.away_s(7) is None
    assert presence.online == {7}
    clock.advance(600)
    assert presence.away_s(7) is None  # however long: the other node says the console is open


def test_away_counts_from_when_the_last_console_anywhere_closed() -> None:
    clock = Clock()
    presence = Presence(clock)
    presence.connected(7)
    presence.set_elsewhere({7})
    clock.advance(30)
    presence.disconnected(7)  # still open on the other node
    assert presence.away_s(7) is None
    clock.advance(30)
    presence.set_elsewhere(set())  # closed there too, now
    clock.advance(5)
    assert presence.away_s(7) == 5.0
    assert not presence.is_online(7)


def test_round_robin_offers_work_to_agents_on_every_node_in_the_order_they_came() -> None:
    presence = Presence(Clock())
    presence.connected(1)
    presence.set_elsewhere({2, 3})
    offered = [presence.next_agent() for _ in range(4)]
    assert set(offered[:3]) == {1, 2, 3}
    assert offered[3] == offered[0]
    presence.set_elsewhere({3})  # agent 2's node went away
    assert set(presence.next_agent() for _ in range(4)) == {1, 3}


def test_a_node_tells_the_others_only_when_an_agents_first_console_opens_or_last_closes() -> None:
    presence = Presence(Clock())
    changes: list[dict[int, int]] = []
    presence.on_change = lambda: changes.append(presence.local_consoles())
    presence.connected(7)
    presence.connected(7)  # a second tab
    presence.disconnected(7)
    presence.disconnected(7)
    assert changes == [{7: 1}, {}]
