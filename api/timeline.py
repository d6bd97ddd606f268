"""What a timeline of a span needs from the index, for both surfaces: the span's frame
density in buckets of a fixed width, each with its first frame (`FrameIndex.buckets`),
within limits a request cannot exceed."""

from __future__ import annotations

from api.errors import InvalidInput
from sensr.index import FrameIndex

MAX_BUCKETS = 4000
"""A day in minutes (1,440) or an hour in seconds (3,600) fits; a day in seconds does not."""
Bucket = tuple[int, int, str, int]


def span_buckets(index: FrameIndex, camera: str, since_us: int, until_us: int,
                 step_s: int) -> tuple[int, list[Bucket]]:
    """(frames in the span, its non-empty buckets: number, frames, first frame id and µs).
    Raises InvalidInput for an empty span or one of more than MAX_BUCKETS buckets. Blocks."""
    if until_us <= since_us:
        raise InvalidInput("until must be after since")
    if step_s < 1 or (until_us - since_us) / (step_s * 1_000_000) > MAX_BUCKETS:
        raise InvalidInput(f"at most {MAX_BUCKETS} buckets of at least a second: widen step or shorten the span")
    buckets = index.buckets(camera, since_us, until_us, step_s * 1_000_000)
    return sum(bucket[1] for bucket in buckets), buckets
