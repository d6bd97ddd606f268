"""sensr.throttle.FailureBackoff: failures past the free ones make a key wait, doubling
up to a cap, and are forgotten after a quiet window or a success (fake clock)."""

from __future__ import annotations

import pytest

from sensr.throttle import FailureBackoff


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_free_failures_cost_nothing_then_the_wait_doubles_up_to_the_cap() -> None:
    clock = Clock()
    backoff = FailureBackoff(free=3, delay=1.0, max_delay=5.0, window=60, clock=clock)
    waits = []
    for _ in range(7):
        assert backoff.retry_after("k") == 0
        backoff.failed("k")
        waits.append(backoff.retry_after("k"))
        clock.now += waits[-1]
    assert waits == [0, 0, 0, 1.0, 2.0, 4.0, 5.0]


def test_a_waiting_key_is_told_how_long_is_left() -> None:
    clock = Clock()
    backoff = FailureBackoff(free=0, delay=10.0, max_delay=10.0, window=60, clock=clock)
    backoff.failed("k")
    clock.now += 4
    assert backoff.retry_after("k") == pytest.approx(6)
    assert backoff.retry_after("other") == 0


def test_failures_are_forgotten_after_a_quiet_window_or_a_success() -> None:
    clock = Clock()
    backoff = FailureBackoff(free=1, delay=1.0, max_delay=100.0, window=30, clock=clock)
    backoff.failed("k")
    backoff.failed("k")
    clock.now += 29
    backoff.failed("k")  # the third: 2 s
    assert backoff.retry_after("k") == pytest.approx(2)
    clock.now += 30
    assert backoff.retry_after("k") == 0
    backoff.failed("k")  # counted from zero again: free
    assert backoff.retry_after("k") == 0
    backoff.failed("k")
    assert backoff.retry_after("k") == pytest.approx(1)
    backoff.succeeded("k")
    assert backoff.retry_after("k") == 0


def test_memory_is_bounded_forgetting_the_least_recently_failing() -> None:
    clock = Clock()
    backoff = FailureBackoff(free=0, delay=1.0, max_delay=1.0, window=60, max_keys=2, clock=clock)
    backoff.failed("a")
    backoff.failed("b")
    backoff.failed("a")
    backoff.failed("c")
    assert backoff.retry_after("b") == 0
    assert backoff.retry_after("a") > 0 and backoff.retry_after("c") > 0


def test_nonsense_parameters_are_refused() -> None:
    with pytest.raises(ValueError):
        FailureBackoff(free=1, delay=2.0, max_delay=1.0, window=60)
