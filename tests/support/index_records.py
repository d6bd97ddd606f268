"""Frame index rows for the index's tests: made-up frames at known instants."""

from __future__ import annotations

from sensr.index import FrameRecord

T0 = 1_790_000_000_000_000  # an instant in 2026, in µs


def frame(camera: str, n: int, timestamp_us: int, size: int = 1000) -> FrameRecord:
    """Frame ids are unique across cameras (as ULIDs are): the PostgreSQL database is shared."""
    return FrameRecord(frame_id=f"{camera}-{timestamp_us:016d}-{n:06d}", camera=camera, timestamp_us=timestamp_us,
                       size=size, width=640, height=480, source="http",
                       object_key=f"{camera}/{n}.jpg", thumbnail_key=f"{camera}/{n}.thumb.jpg")


def series(camera: str, count: int, step_us: int = 60_000_000, start: int = T0) -> list[FrameRecord]:
    return [frame(camera, n, start + n * step_us, size=1000 + n) for n in range(count)]
