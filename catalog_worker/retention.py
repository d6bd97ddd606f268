"""The retention sweep: deletes frames older than their camera's retention, in batches,
and, for a camera that keeps only what matters, its frames that belong to no motion event
once they are older than its `unmoving_keep_hours` (`FrameIndex.unmoving_expired`: scored
frames outside every event; a frame the activity worker has not scored yet is kept).

With segments, a camera's segments whose frames have all expired go whole (object, then
rows); frames of a segment that straddles the cut-off leave the index at once and their
bytes go with the segment when its last frame expires. Frames that "keep what matters"
removes are cut out of their sealed segments at once (`sensr.segments.rewrite_without`:
the rest written to a new segment, then the old object deleted, then the rows). Objects are deleted before index rows: a sweep cut short leaves rows whose objects are
gone (the next sweep finishes them), never objects no row points to. Every replica sweeps
on its own timer; concurrent sweeps are harmless (deletes are idempotent) and cheap when
there is nothing to do (one indexed query per camera).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial

from catalog_worker import metrics
from catalog_worker.errors import RecordRefused, TransientError, index_errors, storage_errors
from catalog_worker.known_cameras import KnownCameras
from catalog_worker.store import ObjectWriter
from sensr.background import BackgroundLoop
from sensr.frames import now_us
from sensr.index import HOUR_US, FrameIndex, FrameRecord
from sensr.logs import get_logger
from sensr.segments import by_segment, rewrite_without

log = get_logger(__name__)
DAY_US = 86_400_000_000
SWEEP_BATCH = 500


class RetentionSweeper:
    def __init__(self, index: FrameIndex, store: ObjectWriter, cameras: KnownCameras, interval: float) -> None:
        self._index = index
        self._store = store
        self._cameras = cameras
        self._interval = interval

    def background(self, stop: threading.Event) -> BackgroundLoop:
        """The sweep every interval on its own thread, until `stop`; a failed round waits for the next."""
        return BackgroundLoop("retention", self.sweep_now, self._interval, errors=(TransientError, RecordRefused),
                              stop=stop)

    def sweep_now(self, stop: threading.Event) -> None:
        """One round: `sweep` at the current time, logged when it removed frames."""
        with index_errors():
            deleted = self.sweep(now_us(), stop)
        if deleted:
            log.info("retention_sweep", deleted=deleted)

    def sweep(self, now: int, stop: threading.Event) -> int:
        """Delete every frame older than its camera's retention at time `now` (µs);
        returns how many index rows were removed."""
        deleted = 0
        for camera in self._index.cameras():
            days = self._cameras.retention_days(camera)
            if days > 0:
                deleted += self._remove_segments(camera, now - days * DAY_US, stop)
                deleted += self._remove(partial(self._index.expired, camera, now - days * DAY_US, SWEEP_BATCH), stop)
            if (hours := self._cameras.unmoving_keep_hours(camera)) is not None:
                deleted += self._remove(
                    partial(self._index.unmoving_expired, camera, now - hours * HOUR_US, SWEEP_BATCH), stop,
                    rewrite_segments=True)
        return deleted

    def _remove_segments(self, camera: str, before_us: int, stop: threading.Event) -> int:
        """Delete the camera's segments whose frames are all older than `before_us`: each
        object, then its frames' rows and its row. Returns how many frame rows went."""
        deleted = 0
        while not stop.is_set() and (expired := self._index.expired_segments(camera, before_us, SWEEP_BATCH)):
            keys = [segment.segment_key for segment in expired]
            self._store.delete_keys(keys)
            removed = self._index.remove_segments(keys)
            metrics.RETENTION_DELETED.inc(removed)
            deleted += removed
        return deleted

    def _remove(self, select: Callable[[], list[FrameRecord]], stop: threading.Event,
                rewrite_segments: bool = False) -> int:
        """Delete the frames `select()` returns, objects first, batch after batch until it
        returns none; returns how many index rows were removed. With `rewrite_segments`,
        each sealed segment holding some of them is rewritten without them (their bytes go
        now); otherwise those bytes go with their segment when its last frame expires."""
        deleted = 0
        while not stop.is_set() and (expired := select()):
            if rewrite_segments:
                for segment, ids in sorted(by_segment(expired).items()):
                    with storage_errors():
                        removed = rewrite_without(self._store.client, self._store.bucket, self._index, segment, ids)
                    metrics.RETENTION_DELETED.inc(removed)
                    deleted += removed
                expired = [frame for frame in expired if frame.segment_key is None]
            self._store.delete(expired)
            removed = self._index.remove(expired)
            metrics.RETENTION_DELETED.inc(removed)
            deleted += removed
        return deleted
