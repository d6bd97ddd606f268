"""What a timeline of a span needs from the index, for both surfaces: the span's frame
density in buckets of a fixed width, each with its first frame (`FrameIndex.buckets`),
the frames found moving in the same buckets (`FrameIndex.moving_buckets`) and the motion
events that start in the span, within limits a request cannot exceed."""

from __future__ import annotations

from dataclasses import dataclass

from api.errors import InvalidInput
from sensr.index import FrameIndex, StoredEvent

MAX_BUCKETS = 4000
"""A day in minutes (1,440) or an hour in seconds (3,600) fits; a day in seconds does not."""
MAX_EVENTS = 500
"""Motion events a timeline draws at once (a day of events a minute apart is 1,440: the
strip draws the first MAX_EVENTS and says there are more)."""
Bucket = tuple[int, int, str, int]
MovingBucket = tuple[int, int]


def span_buckets(index: FrameIndex, camera: str, since_us: int, until_us: int,
                 step_s: int) -> tuple[int, list[Bucket]]:
    """(frames in the span, its non-empty buckets: number, frames, first frame id and µs).
    Raises InvalidInput for an empty span or one of more than MAX_BUCKETS buckets. Blocks."""
    _check_span(since_us, until_us, step_s)
    buckets = index.buckets(camera, since_us, until_us, step_s * 1_000_000)
    return sum(bucket[1] for bucket in buckets), buckets


def span_moving(index: FrameIndex, camera: str, since_us: int, until_us: int, step_s: int) -> list[MovingBucket]:
    """The span's buckets (as `span_buckets` numbers them) that hold frames found moving:
    (number, moving frames). Raises InvalidInput as `span_buckets` does. Blocks."""
    _check_span(since_us, until_us, step_s)
    return index.moving_buckets(camera, since_us, until_us, step_s * 1_000_000)


@dataclass(frozen=True, slots=True)
class SpanEvents:
    events: list[StoredEvent]
    """Oldest first, at most MAX_EVENTS."""
    key_frame_us: dict[str, int]
    """Each event's key frame's time by frame id (one deleted since is left out)."""
    more: bool
    """More events start in the span than are listed."""


def span_events(index: FrameIndex, camera: str, since_us: int, until_us: int) -> SpanEvents:
    """The motion events that start in the span and where their key frames are. Blocks."""
    page = index.events_page(camera, since_us, until_us, MAX_EVENTS, descending=False)
    times = index.frame_times(camera, (stored.event.key_frame_id for stored in page.events))
    return SpanEvents(page.events, times, page.next_cursor is not None)


def _check_span(since_us: int, until_us: int, step_s: int) -> None:
    if until_us <= since_us:
        raise InvalidInput("until must be after since")
    if step_s < 1 or (until_us - since_us) / (step_s * 1_000_000) > MAX_BUCKETS:
        raise InvalidInput(f"at most {MAX_BUCKETS} buckets of at least a second: widen step or shorten the span")
