"""How far Sensr time has got on each partition of `sensr.frames`: the clock that ends the
event of a camera that fell silent.

An event ends when its camera has been quiet for the event gap *in Sensr time* (the
frames' timestamps), never by the worker's own clock alone, so a wall clock stepped
forward, a worker stalled for a while or a backlog read in a hurry ends nothing early, and
the same frames give the same events whatever the processing speed:

* **By the camera's next frame** (`events.EventTracker.observe`): a frame stamped more
  than the gap after the event's last moving frame ends it.
* **By the partition's frames** (`StreamClock.now`, used by the periodic tick): all of a
  camera's frames are on one partition, which the edges fill in about the order they
  stamp frames. Once a frame (of any camera) stamped `gap + SETTLE_SECONDS` after the
  event's last moving frame has been read from the partition, no frame of the camera that
  could extend the event is still to come (`SETTLE_SECONDS` covers an edge's produce delay
  and the skew between edges' clocks). So a silent camera's event ends as soon as its
  partition's other cameras carry Sensr time past the gap.
* **On a partition that is read to its end** (checked against the broker at that moment,
  so a stalled worker does not take a stale high-water mark for "nothing more to come"):
  nothing is left to read, so Sensr time runs on with the wall clock (less
  `SETTLE_SECONDS` for frames still on their way from an edge), but never faster than the
  worker's monotonic clock since the partition's last frame was read. A wall clock stepped
  forward therefore ends nothing early (the monotonic clock did not move), a wall clock
  stepped back only ends events later, and a camera alone on its partition still gets its
  event ended about `gap + SETTLE_SECONDS` after it fell silent.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sensr.frames import now_us

SETTLE_SECONDS = 5.0
SETTLE_US = round(SETTLE_SECONDS * 1_000_000)


@dataclass
class _Partition:
    watermark_us: int
    """The latest Sensr timestamp read from the partition (or the wall clock when it was
    first found idle with nothing read yet)."""
    read_at: float
    """When its last frame was read (the monotonic clock)."""


class StreamClock:
    """Per partition, the Sensr time up to which every frame has been read (see the module's docstring)."""

    def __init__(self, wall_us: Callable[[], int] = now_us, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._wall_us = wall_us
        self._monotonic = monotonic
        self._partitions: dict[int, _Partition] = {}

    def observe(self, partition: int, timestamp_us: int) -> None:
        """A frame stamped `timestamp_us` was read from `partition` and handled."""
        known = self._partitions.get(partition)
        watermark = timestamp_us if known is None else max(known.watermark_us, timestamp_us)
        self._partitions[partition] = _Partition(watermark, self._monotonic())

    def forget(self, partitions: set[int] | None = None) -> None:
        """Drop what is known of `partitions` (all when None): they moved, or their records
        will be read again (a batch rewound after a failure)."""
        if partitions is None:
            self._partitions.clear()
        for partition in partitions or ():
            self._partitions.pop(partition, None)

    def now(self, partition: int, idle: bool) -> int | None:
        """The Sensr time by which no more frame of the partition's cameras is to come
        (None: nothing known yet); `idle`: the partition is read to its end right now."""
        known = self._partitions.get(partition)
        if known is None:
            if not idle:
                return None
            known = self._partitions[partition] = _Partition(self._wall_us(), self._monotonic())
        if not idle:
            return known.watermark_us - SETTLE_US
        elapsed_us = round(max(0.0, self._monotonic() - known.read_at) * 1_000_000)
        running = min(self._wall_us(), known.watermark_us + elapsed_us)
        return max(known.watermark_us, running) - SETTLE_US
