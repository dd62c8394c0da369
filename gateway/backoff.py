"""Capped exponential backoff: the one retry schedule of the whole daemon.

Pure: no clock, no sleeping. Callers sleep (or schedule) the delay they are given, so modem
reconnection, the pipeline's retries, webhook deliveries and restarted tasks all wait the same
way: `initial_s`, then doubling, never more than `max_s`.
"""

from __future__ import annotations

from dataclasses import dataclass

# Beyond this exponent the delay is long past any cap; it also keeps 2**n from overflowing.
_MAX_EXPONENT = 64


@dataclass(frozen=True, slots=True)
class Backoff:
    """The schedule: the delay before retry number `attempt` (1-based)."""

    initial_s: float
    max_s: float

    def __post_init__(self) -> None:
        if self.initial_s <= 0 or self.max_s < self.initial_s:
            raise ValueError(f"need 0 < initial_s <= max_s (got {self.initial_s}, {self.max_s})")

    def delay_s(self, attempt: int) -> float:
        """`initial_s` for attempt 1 (and anything lower), doubling each attempt, capped."""
        exponent = min(max(0, attempt - 1), _MAX_EXPONENT)
        return float(min(self.max_s, self.initial_s * 2.0**exponent))


@dataclass(slots=True)
class Retries:
    """One loop's place in a Backoff: `next_delay_s()` after each failure, `reset()` after a
    success, so the next failure waits `initial_s` again."""

    backoff: Backoff
    failures: int = 0

    def next_delay_s(self) -> float:
        self.failures += 1
        return self.backoff.delay_s(self.failures)

    def reset(self) -> None:
        self.failures = 0
