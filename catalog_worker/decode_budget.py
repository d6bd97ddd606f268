"""A bound on the memory the store threads' JPEG decodes hold at once.

What a decode allocates is known from the frame header before decoding: a progressive
JPEG keeps every DCT coefficient of the full-size image until its last scan (2 bytes per
sample, whatever the output scale), a sequential one only a few rows; both hold the
decoded image at the reduced (draft) scale. `decode_cost` estimates that from above, and
`DecodeBudget` lets decodes run only while the sum of their estimates fits the budget,
in arrival order. A frame whose estimate alone exceeds the budget waits until nothing
else is decoding and then runs alone, so nothing can wait forever.

With the budget and `SENSR_MAX_FRAME_PIXELS` the worker's decoding memory is bounded by
max(budget, largest accepted frame), whatever producers send and however many threads
write.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

from catalog_worker import metrics
from sensr.frame_check import FrameShape

COEFFICIENT_BYTES = 2  # libjpeg's JCOEF
DECODED_PIXEL_BYTES = 4  # Pillow stores RGB (and CMYK) images 4 bytes a pixel
DRAFT_SCALES = (8, 4, 2, 1)  # libjpeg's DCT scaling, as Pillow's draft mode picks it


def draft_scale(width: int, height: int, target_width: int, target_height: int) -> int:
    """The reduction Pillow's draft mode applies when asked for at least `target_width`
    x `target_height`: the largest of 1/8, 1/4, 1/2, 1 that keeps the image that big."""
    ratio = max(1, min(width // max(1, target_width), height // max(1, target_height)))
    return next(scale for scale in DRAFT_SCALES if ratio >= scale)


def decode_cost(shape: FrameShape, thumbnail_width: int) -> int:
    """Bytes a thumbnail decode of a frame of `shape` may hold, estimated from above: the
    decoded image at draft scale (and a copy), plus for a progressive frame the full-size
    coefficients of every component (counted without chroma subsampling)."""
    target_width = min(thumbnail_width, shape.width)
    target_height = max(1, shape.height * target_width // shape.width)
    scale = draft_scale(shape.width, shape.height, target_width, target_height)
    decoded = -(-shape.width // scale) * -(-shape.height // scale) * DECODED_PIXEL_BYTES * 2
    coefficients = shape.pixels * shape.components * COEFFICIENT_BYTES if shape.progressive else 0
    return decoded + coefficients


class DecodeBudget:
    """A weighted semaphore over bytes, fair (first come, first served) and never stuck:
    a request larger than the whole budget is granted once nothing else holds any."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("the decode budget must be at least 1 byte")
        self._capacity = capacity
        self._used = 0
        self._queue: deque[object] = deque()
        self._changed = threading.Condition()

    @property
    def held(self) -> int:
        """Bytes held by the decodes running now."""
        with self._changed:
            return self._used

    @property
    def waiting(self) -> int:
        """Decodes waiting for their turn."""
        with self._changed:
            return len(self._queue)

    @contextmanager
    def hold(self, cost: int) -> Iterator[None]:
        """Wait until `cost` bytes fit (or, if over the budget, until nothing else is held
        and this is first in line), hold them for the block, then give them back."""
        turn = object()
        with self._changed:
            self._queue.append(turn)
            while self._queue[0] is not turn or (self._used and self._used + cost > self._capacity):
                self._changed.wait()
            self._queue.popleft()
            self._used += cost
            metrics.DECODE_BYTES_HELD.set(self._used)
            self._changed.notify_all()  # the next in line may fit too
        try:
            yield
        finally:
            with self._changed:
                self._used -= cost
                metrics.DECODE_BYTES_HELD.set(self._used)
                self._changed.notify_all()
