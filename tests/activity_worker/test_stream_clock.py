"""The Sensr time a partition has got to (activity_worker/stream_clock.py), under a wall
clock and a monotonic clock the test drives."""

from __future__ import annotations

from activity_worker.stream_clock import SETTLE_US, StreamClock

SECOND = 1_000_000
T0 = 1_780_000_000_000_000


class Clocks:
    def __init__(self) -> None:
        self.wall_us = T0
        self.monotonic = 0.0

    def clock(self) -> StreamClock:
        return StreamClock(lambda: self.wall_us, lambda: self.monotonic)


def test_while_frames_are_to_come_it_is_the_latest_frame_read_less_the_settle_time() -> None:
    clocks = Clocks()
    stream = clocks.clock()
    assert stream.now(0, idle=False) is None
    stream.observe(0, T0 + 10 * SECOND)
    stream.observe(0, T0 + 8 * SECOND)  # an edge a little behind another
    clocks.wall_us += 3600 * SECOND
    clocks.monotonic += 3600.0  # a stall, a clock stepped forward: a backlog is still a backlog
    assert stream.now(0, idle=False) == T0 + 10 * SECOND - SETTLE_US
    assert stream.now(1, idle=False) is None  # partitions are apart


def test_an_idle_partition_runs_with_the_wall_clock_no_faster_than_the_monotonic_one() -> None:
    clocks = Clocks()
    stream = clocks.clock()
    stream.observe(0, T0)
    clocks.wall_us += 20 * SECOND
    clocks.monotonic += 20.0
    assert stream.now(0, idle=True) == T0 + 20 * SECOND - SETTLE_US
    clocks.wall_us += 3600 * SECOND  # stepped forward: no faster than the monotonic clock
    assert stream.now(0, idle=True) == T0 + 20 * SECOND - SETTLE_US
    clocks.wall_us -= 2 * 3600 * SECOND  # stepped back: never before the frames read
    assert stream.now(0, idle=True) == T0 - SETTLE_US


def test_a_partition_found_idle_before_any_frame_starts_at_the_wall_clock() -> None:
    clocks = Clocks()
    stream = clocks.clock()
    assert stream.now(0, idle=True) == T0 - SETTLE_US
    clocks.wall_us += 3600 * SECOND
    clocks.monotonic += 10.0
    assert stream.now(0, idle=True) == T0 + 10 * SECOND - SETTLE_US


def test_forgotten_partitions_start_again() -> None:
    clocks = Clocks()
    stream = clocks.clock()
    stream.observe(0, T0)
    stream.observe(1, T0)
    stream.forget({0})
    assert (stream.now(0, idle=False), stream.now(1, idle=False)) == (None, T0 - SETTLE_US)
    stream.forget()
    assert stream.now(1, idle=False) is None
