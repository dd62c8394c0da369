"""The one backoff schedule: doubling from the first wait, capped, reset after a success."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.backoff import Backoff, Retries


@pytest.mark.parametrize(
    ("initial_s", "max_s", "delays"),
    [
        (1.0, 60.0, [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]),
        (30.0, 600.0, [30.0, 60.0, 120.0, 240.0, 480.0, 600.0, 600.0, 600.0]),
        (0.5, 0.5, [0.5] * 8),
    ],
)
def test_delays_double_from_the_first_wait_up_to_the_cap(
    initial_s: float, max_s: float, delays: list[float]
) -> None:
    backoff = Backoff(initial_s, max_s)
    assert [backoff.delay_s(attempt) for attempt in range(1, 9)] == delays


def test_attempt_zero_or_less_waits_the_first_delay() -> None:
    assert Backoff(2.0, 10.0).delay_s(0) == 2.0
    assert Backoff(2.0, 10.0).delay_s(-3) == 2.0


def test_a_very_late_attempt_is_capped_without_overflow() -> None:
    assert Backoff(1.0, 3600.0).delay_s(10**6) == 3600.0


@pytest.mark.parametrize(("initial_s", "max_s"), [(0.0, 1.0), (-1.0, 1.0), (2.0, 1.0)])
def test_a_schedule_needs_a_positive_first_wait_below_its_cap(
    initial_s: float, max_s: float
) -> None:
    with pytest.raises(ValueError, match="initial_s"):
        Backoff(initial_s, max_s)


@given(
    initial_s=st.floats(min_value=0.001, max_value=100.0),
    factor=st.floats(min_value=1.0, max_value=1000.0),
    attempt=st.integers(min_value=1, max_value=10_000),
)
def test_delays_never_shrink_and_stay_within_bounds(
    initial_s: float, factor: float, attempt: int
) -> None:
    backoff = Backoff(initial_s, initial_s * factor)
    delay = backoff.delay_s(attempt)
    assert initial_s <= delay <= backoff.max_s
    assert backoff.delay_s(attempt + 1) >= delay


def test_retries_count_failures_and_start_over_after_a_success() -> None:
    retries = Retries(Backoff(1.0, 4.0))
    assert [retries.next_delay_s() for _ in range(4)] == [1.0, 2.0, 4.0, 4.0]
    assert retries.failures == 4
    retries.reset()
    assert retries.next_delay_s() == 1.0
