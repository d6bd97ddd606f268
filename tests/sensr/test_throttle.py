"""sensr.throttle: FailureLog, the failed-login count every surface stands on (a run for
backoffs, a sliding window for rate limits, forgotten after a quiet window but not while
the key waits), and FailureBackoff on it: failures past the free ones make a key wait,
doubling up to a cap, forgotten after a quiet window or a success (fake clock)."""

from __future__ import annotations

import pytest

from sensr.throttle import FailureBackoff, FailureLog


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


def test_the_log_counts_a_run_and_a_sliding_window_of_the_latest_failures() -> None:
    clock = Clock()
    log = FailureLog(window=60, depth=3, clock=clock)
    for _ in range(4):  # one failure every 30 s: never three within a minute
        log.failed("k")
        clock.now += 30
    assert log.recent_count("k") == 1  # the one 30 s ago; the others left the window
    failures = log.get("k")
    assert failures is not None and failures.count == 4  # the run goes on: no quiet minute
    for _ in range(5):
        log.failed("k")
    assert log.recent_count("k") == 3  # at most `depth`
    assert log.recent_count("other") == 0 and log.get("other") is None


def test_the_log_forgets_a_quiet_key_but_not_while_it_waits() -> None:
    clock = Clock()
    log = FailureLog(window=10, clock=clock)
    log.failed("quiet")
    log.failed("waiting").wait_until = clock.now + 25
    clock.now += 10
    assert log.get("quiet") is None
    assert log.get("waiting") is not None and log.recent_count("waiting") == 0
    clock.now += 15
    assert log.get("waiting") is None
    failures = log.failed("waiting")
    assert (failures.count, failures.wait_until) == (1, clock.now)  # counted from zero again
    log.forget("waiting")
    assert log.get("waiting") is None


def test_the_log_refuses_nonsense_parameters() -> None:
    with pytest.raises(ValueError):
        FailureLog(window=60, depth=0)
    with pytest.raises(ValueError):
        FailureLog(window=0)
