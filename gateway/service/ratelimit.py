"""Login attempt limiting with backoff, as OWASP advises: slow guessing down, never lock out.

Each attempt is counted before its password is checked, in one synchronous step, so parallel
attempts cannot all pass a check that none has yet recorded. Three counters apply:
- per username and client address: a few failures are free, then each attempt must wait
  `backoff_initial_s`, doubling up to `backoff_max_s` (guessing one account from one place);
- per username from anywhere: more failures are free (guessing from many places);
- per client address for any username: more again (spraying many usernames from one place).
A stranger can therefore only slow an account down by at most `backoff_max_s` per attempt, and
never lock it; a success clears its own username-and-address counter. Usernames are compared
exactly (they are case-sensitive), so failures for `AGENT` do not slow `agent`. Counters are
forgotten `window_s` after their last failure; an admin can list and clear them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gateway.backoff import Backoff
from gateway.service.errors import RateLimitedError

# Keys kept at most (a spray of random usernames or addresses): idle ones are forgotten first.
MAX_TRACKED_KEYS = 10_000


@dataclass(frozen=True, slots=True)
class LoginLimits:
    free_failures_per_user_address: int = 5
    free_failures_per_user: int = 10
    free_failures_per_address: int = 20
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 60.0
    window_s: float = 300.0


@dataclass(frozen=True, slots=True)
class LoginThrottle:
    """One counter that currently slows attempts down (what an admin sees)."""

    kind: str  # "user_address", "user" or "address"
    username: str | None
    address: str | None
    failures: int
    retry_after_s: float


@dataclass(slots=True)
class _Counter:
    failures: int
    last_at: float


Key = tuple[str, str | None, str | None]


class LoginRateLimiter:
    """`monotonic` is injected so tests control time."""

    def __init__(self, limits: LoginLimits, monotonic: Callable[[], float]) -> None:
        self._limits = limits
        self._backoff = Backoff(limits.backoff_initial_s, limits.backoff_max_s)
        self._monotonic = monotonic
        self._counters: dict[Key, _Counter] = {}

    def _keys(self, username: str, address: str) -> tuple[tuple[Key, int], ...]:
        limits = self._limits
        return (
            (("user_address", username, address), limits.free_failures_per_user_address),
            (("user", username, None), limits.free_failures_per_user),
            (("address", None, address), limits.free_failures_per_address),
        )

    def begin(self, username: str, address: str) -> None:
        """Count an attempt as failed before its password is checked; raise RateLimitedError
        (counting nothing) while any counter asks to wait. `succeeded` takes it back."""
        now = self._monotonic()
        keys = self._keys(username, address)
        wait = 0.0
        for key, free in keys:
            counter = self._live(key, now)
            if counter is not None:
                wait = max(wait, counter.last_at + self._delay(counter, free) - now)
        if wait > 0:
            raise RateLimitedError(
                "too many failed login attempts; try again later", retry_after_s=max(1.0, wait)
            )
        if len(self._counters) >= MAX_TRACKED_KEYS:
            self._forget_idle(now)
        for key, _free in keys:
            counter = self._counters.get(key)
            if counter is None:
                self._counters[key] = _Counter(1, now)
            else:
                counter.failures += 1
                counter.last_at = now

    def succeeded(self, username: str, address: str) -> None:
        """The attempt begun was right: clear this username-and-address counter, and take the
        attempt back from the others."""
        keys = self._keys(username, address)
        self._counters.pop(keys[0][0], None)
        for key, _free in keys[1:]:
            counter = self._counters.get(key)
            if counter is not None:
                counter.failures -= 1
                if counter.failures <= 0:
                    del self._counters[key]

    def throttles(self) -> list[LoginThrottle]:
        """Counters past their free failures, longest wait first."""
        now = self._monotonic()
        found = []
        free_of = {
            "user_address": self._limits.free_failures_per_user_address,
            "user": self._limits.free_failures_per_user,
            "address": self._limits.free_failures_per_address,
        }
        for key in list(self._counters):
            counter = self._live(key, now)
            if counter is None or counter.failures < free_of[key[0]]:
                continue
            wait = max(0.0, counter.last_at + self._delay(counter, free_of[key[0]]) - now)
            found.append(LoginThrottle(key[0], key[1], key[2], counter.failures, wait))
        return sorted(found, key=lambda t: (-t.retry_after_s, -t.failures))

    def clear(self, *, username: str | None = None, address: str | None = None) -> int:
        """Forget every counter of `username` and/or `address` (both None: all); returns how
        many were forgotten."""
        doomed = [
            key for key in self._counters
            if (username is None or key[1] == username) and (address is None or key[2] == address)
        ]
        for key in doomed:
            del self._counters[key]
        return len(doomed)

    def _delay(self, counter: _Counter, free: int) -> float:
        """The wait before the next attempt: none while failures are free, then the backoff
        (`backoff_initial_s` at the first failure past them, doubling, capped)."""
        if counter.failures < free:
            return 0.0
        return self._backoff.delay_s(counter.failures - free + 1)

    def _live(self, key: Key, now: float) -> _Counter | None:
        counter = self._counters.get(key)
        if counter is not None and now - counter.last_at >= self._limits.window_s:
            del self._counters[key]
            return None
        return counter

    def _forget_idle(self, now: float) -> None:
        for key in list(self._counters):
            self._live(key, now)
        excess = len(self._counters) - MAX_TRACKED_KEYS + 1
        if excess > 0:
            by_age = sorted(self._counters, key=lambda k: self._counters[k].last_at)
            for key in by_age[:excess]:
                del self._counters[key]
