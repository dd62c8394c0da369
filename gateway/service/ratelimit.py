"""Login attempt limiting with backoff, as OWASP advises: slow guessing down, never lock out.

Each attempt is counted before its password is checked, in one transaction holding its counters'
rows (gateway.store.login_failures), so parallel attempts, on one node or on several nodes of a
cluster, cannot all pass a check that none has yet recorded. Three counters apply:
- per username and client address: a few failures are free, then each attempt must wait
  `backoff_initial_s`, doubling up to `backoff_max_s` (guessing one account from one place);
- per username from anywhere: more failures are free (guessing from many places);
- per client address for any username: more again (spraying many usernames from one place).
A stranger can therefore only slow an account down by at most `backoff_max_s` per attempt, and
never lock it; a success clears its own username-and-address counter. Usernames are compared
exactly (they are case-sensitive), so failures for `AGENT` do not slow `agent`. Counters are
forgotten `window_s` after their last failure; an admin can list and clear them. They live in
the database, so a restart does not forget them and every node of a cluster counts the same.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from gateway.backoff import Backoff
from gateway.service.errors import RateLimitedError
from gateway.store.login_failures import Key, LoginFailure, LoginFailureRepository

if TYPE_CHECKING:
    from gateway.config import HttpConfig


@dataclass(frozen=True, slots=True)
class LoginLimits:
    free_failures_per_user_address: int = 5
    free_failures_per_user: int = 10
    free_failures_per_address: int = 20
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 60.0
    window_s: float = 300.0

    @classmethod
    def from_config(cls, http: HttpConfig) -> LoginLimits:
        """`http.login_max_attempts` per username and address, twice that per username, four
        times per address."""
        return cls(
            free_failures_per_user_address=http.login_max_attempts,
            free_failures_per_user=http.login_max_attempts * 2,
            free_failures_per_address=http.login_max_attempts * 4,
            backoff_initial_s=http.login_backoff_initial_s,
            backoff_max_s=http.login_backoff_max_s,
            window_s=http.login_window_s,
        )


@dataclass(frozen=True, slots=True)
class LoginThrottle:
    """One counter that currently slows attempts down (what an admin sees)."""

    kind: str  # "user_address", "user" or "address"
    username: str | None
    address: str | None
    failures: int
    retry_after_s: float


class LoginRateLimiter:
    def __init__(
        self, limits: LoginLimits, failures: LoginFailureRepository,
        clock: Callable[[], datetime],
    ) -> None:
        self._limits = limits
        self._backoff = Backoff(limits.backoff_initial_s, limits.backoff_max_s)
        self._failures = failures
        self._clock = clock
        self._free = {
            "user_address": limits.free_failures_per_user_address,
            "user": limits.free_failures_per_user,
            "address": limits.free_failures_per_address,
        }

    @staticmethod
    def _keys(username: str, address: str) -> tuple[Key, Key, Key]:
        return (("user_address", username, address), ("user", username, None),
                ("address", None, address))

    async def begin(self, username: str, address: str) -> None:
        """Count an attempt as failed before its password is checked; raise RateLimitedError
        (counting nothing) while any counter asks to wait. `succeeded` takes it back."""
        now = self._clock()
        wait = await self._failures.attempt(
            self._keys(username, address), now=now, window_s=self._limits.window_s,
            wait_s=lambda counters: max((self._wait_s(c, now) for c in counters), default=0.0),
        )
        if wait > 0:
            raise RateLimitedError(
                "too many failed login attempts; try again later", retry_after_s=max(1.0, wait)
            )

    async def succeeded(self, username: str, address: str) -> None:
        """The attempt begun was right: clear this username-and-address counter, and take the
        attempt back from the others."""
        mine, *others = self._keys(username, address)
        await self._failures.succeeded(mine, others)

    async def throttles(self) -> list[LoginThrottle]:
        """Counters past their free failures, longest wait first."""
        now = self._clock()
        found = [
            LoginThrottle(c.kind, c.username, c.address, c.failures, self._wait_s(c, now))
            for c in await self._failures.live(now=now, window_s=self._limits.window_s)
            if c.failures >= self._free.get(c.kind, 0)
        ]
        return sorted(found, key=lambda t: (-t.retry_after_s, -t.failures))

    async def clear(self, *, username: str | None = None, address: str | None = None) -> int:
        """Forget every counter of `username` and/or `address` (both None: all); returns how
        many were forgotten."""
        return await self._failures.clear(username=username, address=address)

    async def forget_idle(self) -> int:
        return await self._failures.forget_idle(now=self._clock(),
                                                window_s=self._limits.window_s)

    def _wait_s(self, counter: LoginFailure, now: datetime) -> float:
        """How long the next attempt must wait for this counter: none while its failures are
        free, then the backoff (`backoff_initial_s` at the first failure past them, doubling,
        capped) from its last failure."""
        free = self._free.get(counter.kind, 0)
        if counter.failures < free:
            return 0.0
        delay = self._backoff.delay_s(counter.failures - free + 1)
        return max(0.0, delay - (now - counter.last_at).total_seconds())
