"""Per-camera segments: the block-builder of the catalog worker (Grafana Tempo builds its
blocks from Kafka the same way).

A frame is indexed, listed and announced as soon as its batch is processed, with its
place in Kafka (`sensr.frames` partition and offset; its thumbnail's in
`sensr.thumbnails`): readers get its bytes from Kafka (`sensr.frame_reader`). Its bytes
also go into its camera's open segment, here, in memory. A segment is sealed when its
first frame is `max_age` seconds old, when it holds `max_bytes`, or when the open
segments together hold more than `MEMORY_SEGMENTS × max_bytes` (the largest first): the
object is written (thumbnails first, contiguously, then the originals) and its frames'
rows repointed to it, on a pool of its own; the consumer loop does not wait for it, so a
burst of seals (cameras that started together are due together) never holds up listing.

Nothing is lost: offsets are committed only up to the lowest offset, per partition, of
any frame still in an open segment (`low_water`). A worker that dies drops its open
segments; their frames come again from the last commit and are packed again (their
index rows exist already: the insert is a no-op; frames already in a sealed segment are
not packed twice).

No object without a row: a segment's row is written (unsealed) before its object, and the
row is marked sealed in the same transaction that repoints the frames. A writer that dies
in between leaves an unsealed row: `sweep_stale` (a background loop) deletes such objects
and rows once they are older than any seal can take.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from minio import Minio

from catalog_worker import metrics
from catalog_worker.errors import TransientError, index_errors, storage_errors
from catalog_worker.message import Partition
from sensr.background import BackgroundLoop
from sensr.frames import now_us
from sensr.index import FrameIndex
from sensr.segments import write_segment
from sensr.logs import get_logger

log = get_logger(__name__)
MEMORY_SEGMENTS = 32
"""Open segments may hold this many times `max_bytes` in all before the largest is sealed early."""
SEAL_THREADS = 4
STALE_AFTER_US = 15 * 60 * 1_000_000
"""An unsealed segment row this old belongs to a writer that died: no seal takes that long."""
SWEEP_SECONDS = 300.0


@dataclass(frozen=True, slots=True)
class PackedFrame:
    """A frame handed to its camera's open segment: its bytes and its place in Kafka
    (a `sensr.segments.Packable`)."""

    frame_id: str
    camera: str
    timestamp_us: int
    partition: Partition
    offset: int
    jpeg: bytes
    thumbnail: bytes


@dataclass(slots=True)
class _OpenSegment:
    camera: str
    opened: float
    frames: list[PackedFrame] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    size: int = 0
    lowest: dict[Partition, int] = field(default_factory=dict)
    """Per partition, the lowest offset of a frame held: what `low_water` reads, so that it
    costs one step per open segment, not one per frame held."""

    def hold(self, frame: PackedFrame) -> None:
        self.frames.append(frame)
        self.ids.add(frame.frame_id)
        self.size += len(frame.jpeg) + len(frame.thumbnail)
        if frame.offset < self.lowest.get(frame.partition, frame.offset + 1):
            self.lowest[frame.partition] = frame.offset


@dataclass(frozen=True, slots=True, eq=False)
class _Sealing:
    """A segment being written: still below the commit line until it is sealed."""

    segment: _OpenSegment
    reason: str
    future: Future[None]


class SegmentBuilder:
    """The open segments of one worker. `add` and `low_water` are called by the batch
    handler, `seal_due`/`seal_all` by the consumer loop; `drop` from the rebalance
    listener. Thread-safe."""

    def __init__(self, client: Minio, bucket: str, index: FrameIndex, max_age: float, max_bytes: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._client = client
        self._bucket = bucket
        self._index = index
        self._max_age = max_age
        self._max_bytes = max_bytes
        self._clock = clock
        self._open: dict[str, _OpenSegment] = {}
        self._sealing: list[_Sealing] = []
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(SEAL_THREADS, thread_name_prefix="seal")

    def add(self, frames: Iterable[PackedFrame]) -> None:
        """Put frames in their cameras' open segments, but not those already in a sealed
        segment (a re-delivery after a crash), being sealed, or already open here. Raises
        TransientError if the index cannot say which are sealed."""
        frames = list(frames)
        with index_errors():
            sealed = self._index.sealed_frames(frame.frame_id for frame in frames)
        with self._lock:
            being_sealed: dict[str, list[set[str]]] = {}
            for seal in self._sealing:
                being_sealed.setdefault(seal.segment.camera, []).append(seal.segment.ids)
            for frame in frames:
                segment = self._open.get(frame.camera)
                if segment is None:
                    segment = self._open[frame.camera] = _OpenSegment(frame.camera, self._clock())
                if frame.frame_id in sealed or frame.frame_id in segment.ids or any(
                        frame.frame_id in ids for ids in being_sealed.get(frame.camera, ())):
                    continue
                segment.hold(frame)
            for camera in [camera for camera, segment in self._open.items() if not segment.frames]:
                del self._open[camera]
            metrics.SEGMENTS_OPEN_BYTES.set(sum(segment.size for segment in self._open.values()))

    def full(self) -> bool:
        """True when the open segments hold more than twice the memory allowed: seals are
        failing (the store is down), so the worker must stop taking frames."""
        with self._lock:
            held = sum(segment.size for segment in [*self._open.values(), *(s.segment for s in self._sealing)])
        return held > 2 * MEMORY_SEGMENTS * self._max_bytes

    def low_water(self) -> dict[Partition, int]:
        """Per partition, the lowest offset of a frame in an open segment: commit no further."""
        water: dict[Partition, int] = {}
        with self._lock:
            for segment in [*self._open.values(), *(seal.segment for seal in self._sealing)]:
                for partition, offset in segment.lowest.items():
                    if offset < water.get(partition, offset + 1):
                        water[partition] = offset
        return water

    def drop(self, partitions: set[Partition]) -> None:
        """Forget open segments holding frames of `partitions` (revoked: their new owner
        re-reads them from the last commit and packs them itself). A segment being
        written meanwhile is sealed all the same: its frames' rows point at it or, if the
        new owner seals them later, at the new one (the older object is then swept by
        retention with its camera's other segments)."""
        with self._lock:
            for camera in [camera for camera, segment in self._open.items()
                           if not partitions.isdisjoint(segment.lowest)]:
                del self._open[camera]

    def seal_due(self) -> int:
        """Start sealing the segments that are old or large enough, without waiting for
        them (the consumer loop goes on listing frames meanwhile); returns how many seals
        finished since the last call. Raises TransientError if any of those failed (its
        segment is open again, to be sealed again)."""
        now = self._clock()
        with self._lock:
            due = {camera: "age" for camera, segment in self._open.items() if now - segment.opened >= self._max_age}
            due.update((camera, "size") for camera, segment in self._open.items()
                       if segment.size >= self._max_bytes and camera not in due)
            held = sum(segment.size for camera, segment in self._open.items() if camera not in due)
            for segment in sorted(self._open.values(), key=lambda s: s.size, reverse=True):
                if held <= MEMORY_SEGMENTS * self._max_bytes:
                    break
                if segment.camera not in due:
                    due[segment.camera] = "memory"
                    held -= segment.size
        self._start(due)
        return self._collect(wait=False)

    def seal_all(self) -> int:
        """Seal every open segment and wait for every seal under way (at drain); returns
        how many finished, raises like `seal_due`."""
        with self._lock:
            due = dict.fromkeys(self._open, "drain")
        self._start(due)
        return self._collect(wait=True)

    def settle(self) -> int:
        """Wait for the seals under way; returns and raises like `seal_due`."""
        return self._collect(wait=True)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _start(self, due: dict[str, str]) -> None:
        """Take the due segments out of the open ones (frames of their cameras that come
        meanwhile start new ones) and write them on the pool, in parallel."""
        with self._lock:
            segments = [(self._open.pop(camera), reason) for camera, reason in due.items() if camera in self._open]
            self._sealing.extend(_Sealing(segment, reason, self._pool.submit(self._write, segment))
                                 for segment, reason in segments)

    def _collect(self, wait: bool) -> int:
        """Account for the seals that finished (all of them, with `wait`): put back those
        that failed; returns how many succeeded."""
        with self._lock:
            under_way = list(self._sealing)
        failed: BaseException | None = None
        sealed = 0
        for seal in under_way:
            if not wait and not seal.future.done():
                continue
            error = seal.future.exception()
            with self._lock:
                self._sealing.remove(seal)
                if error is not None:
                    self._reopen(seal.segment)
            if error is not None:
                failed = failed or error
                metrics.SEGMENT_SEAL_FAILURES.inc()
                continue
            sealed += 1
            metrics.SEGMENTS_SEALED.labels(seal.reason).inc()
            metrics.SEGMENT_FRAMES.observe(len(seal.segment.frames))
        with self._lock:
            metrics.SEGMENTS_OPEN_BYTES.set(sum(s.size for s in self._open.values()))
        if failed is not None:
            if isinstance(failed, TransientError):
                raise failed
            raise TransientError("storage", f"sealing a segment failed: {failed}") from failed
        return sealed

    def _reopen(self, segment: _OpenSegment) -> None:
        """A segment whose seal failed goes back in front of its camera's newer frames."""
        newer = self._open.get(segment.camera)
        if newer is not None:
            for frame in newer.frames:
                if frame.frame_id not in segment.ids:
                    segment.hold(frame)
        self._open[segment.camera] = segment

    def _write(self, segment: _OpenSegment) -> None:
        """Row (unsealed), object, then rows repointed and the segment sealed
        (`sensr.segments.write_segment`); frames deleted while open are left out."""
        with index_errors():
            indexed = self._index.existing(frame.frame_id for frame in segment.frames)
        frames = [frame for frame in segment.frames if frame.frame_id in indexed]
        if not frames:
            return
        with storage_errors(), index_errors():
            key = write_segment(self._client, self._bucket, self._index, segment.camera, frames)
        log.debug("segment_sealed", key=key, frames=len(frames))


class StaleSegmentSweeper:
    """Deletes segments no frame points to: begun but never sealed (their writer died
    between writing the object and sealing it), or sealed but left without frames (a
    rewrite cut short, or frames re-packed by another replica after a rebalance): object
    first, then row."""

    def __init__(self, index: FrameIndex, remove: Callable[[Sequence[str]], None], interval: float = SWEEP_SECONDS,
                 stale_after_us: int = STALE_AFTER_US) -> None:
        self._index = index
        self._remove = remove
        self._interval = interval
        self._stale_after_us = stale_after_us

    def background(self, stop: threading.Event) -> BackgroundLoop:
        return BackgroundLoop("segment-sweep", self.sweep, self._interval, errors=(TransientError,), stop=stop)

    def sweep(self, stop: threading.Event) -> int:
        """One round; returns how many stale segments were removed."""
        removed = 0
        while not stop.is_set():
            with index_errors():
                before = now_us() - self._stale_after_us
                stale = self._index.stale_segments(before, 500) or self._index.empty_segments(before, 500)
            if not stale:
                break
            keys = [segment.segment_key for segment in stale]
            self._remove(keys)
            with index_errors():
                self._index.remove_segments(keys)
            removed += len(keys)
            metrics.SEGMENTS_SWEPT.inc(len(keys))
        if removed:
            log.info("stale_segments_removed", segments=removed)
        return removed
