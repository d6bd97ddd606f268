"""Which stored frames make a clip, and where each goes on the output's time line.

A range holding at most `job.max_frames` frames is read whole from the index (pages of
1,000 rows). A longer one (a 31-day time-lapse of a 1 fps camera holds 2.7 million) is
sampled by time: the span from its first to its last frame is cut into `max_frames`
equal slots and the first frame of each slot is taken, one index seek per slot
(`FrameIndex.first_in_slots`), so the work depends on the output's length, not on how
many frames the range holds. Slots without frames (the camera was off) are skipped.

Placement: a time-lapse puts the chosen frames one per output frame at `fps`; the
other speeds place each frame at its Sensr timestamp, divided by the speed factor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sensr.clips import ClipJob
from sensr.index import FrameIndex, FrameRecord

PAGE = 1000
TIME_BASE = 90_000
"""Output ticks per second (the MPEG clock): exact for the usual frame rates."""


@dataclass(frozen=True, slots=True)
class Placed:
    frame: FrameRecord
    pts: int
    """When it shows, in 1/`TIME_BASE` s from the clip's start."""


def choose(index: FrameIndex, job: ClipJob) -> list[FrameRecord]:
    """The frames of the job's range, sampled by time down to `job.max_frames`."""
    total = index.count(job.camera, job.since_us, job.until_us)
    if total == 0:
        return []
    if total <= job.max_frames:
        return _all(index, job)
    first = index.page(job.camera, job.since_us, job.until_us, limit=1).frames[0]
    last = index.page(job.camera, job.since_us, job.until_us, limit=1, descending=True).frames[0]
    span = last.timestamp_us + 1 - first.timestamp_us
    bounds = [first.timestamp_us + span * i // job.max_frames for i in range(job.max_frames)]
    return index.first_in_slots(job.camera, [*bounds, last.timestamp_us + 1])


def place(frames: Sequence[FrameRecord], job: ClipJob) -> list[Placed]:
    """Each frame's time on the output, strictly increasing (a frame that would show at
    the same tick as the one before is dropped)."""
    placed: list[Placed] = []
    if not frames:
        return placed
    start = frames[0].timestamp_us
    for number, frame in enumerate(frames):
        if job.speed == "timelapse":
            pts = round(number * TIME_BASE / job.fps)
        else:
            pts = round((frame.timestamp_us - start) * TIME_BASE / 1_000_000 / job.rate)
        if placed and pts <= placed[-1].pts:
            continue
        placed.append(Placed(frame, pts))
    return placed


def _all(index: FrameIndex, job: ClipJob) -> list[FrameRecord]:
    frames: list[FrameRecord] = []
    cursor = None
    while True:
        page = index.page(job.camera, job.since_us, job.until_us, limit=PAGE, cursor=cursor)
        frames += page.frames
        if page.next_cursor is None:
            return frames
        cursor = page.next_cursor
