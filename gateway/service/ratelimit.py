"""Login attempt limiting: failures are counted per username and per client address."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from gateway.service.errors import RateLimitedError


@dataclass(frozen=True, slots=True)
class LoginLimits:
    max_failures_per_user: int = 5
    max_failures_per_address: int = 20
    window_s: float = 300.0


class LoginRateLimiter:
    """Sliding-window failure counter; `monotonic` is injected so tests control time."""

    def __init__(self, limits: LoginLimits, monotonic: Callable[[], float]) -> None:
        self._limits = limits
        self._monotonic = monotonic
        self._failures: dict[tuple[str, str], deque[float]] = {}

    def check(self, username: str, address: str) -> None:
        """Raise RateLimitedError when either key has too many recent failures."""
        now = self._monotonic()
        for key, limit in (
            (("user", username.casefold()), self._limits.max_failures_per_user),
            (("address", address), self._limits.max_failures_per_address),
        ):
            times = self._recent(key, now)
            if len(times) >= limit:
                retry_after = max(1.0, times[0] + self._limits.window_s - now)
                raise RateLimitedError(
                    "too many failed login attempts; try again later", retry_after_s=retry_after
                )

    def record_failure(self, username: str, address: str) -> None:
        now = self._monotonic()
        for key in (("user", username.casefold()), ("address", address)):
            self._recent(key, now).append(now)

    def record_success(self, username: str) -> None:
        self._failures.pop(("user", username.casefold()), None)

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] <= now - self._limits.window_s:
            times.popleft()
        if not times and len(self._failures) > 10_000:
            # Bound memory under a spray of random usernames: forget idle keys.
            for stale in [k for k, v in self._failures.items() if not v]:
                del self._failures[stale]
            times = self._failures.setdefault(key, deque())
        return times
