"""Deleting a camera deletes its frames: every object under `<username>/` (its segments
too), then its index rows and segment rows, within minutes of the api writing the camera's tombstone.

Objects go first, as in the retention sweep: a purge cut short leaves rows whose
objects are gone (finished by the next purge), never objects that no row points to.

When: as soon as the camera table reads a tombstone (and, after a restart, for every
tombstone the topic still holds, since the table re-reads it); then, for
`SETTLE_SECONDS` after the deletion, every `SENSR_CATALOG_PURGE_SECONDS`, again if the
index has rows of the camera. That repeat is what makes it complete and resumable:
frames of the camera that were already past the camera check when the tombstone arrived
(in this replica or another) may still be written, and are removed by the next round
(they are indexed after their objects are written, so one query over the index finds
them all); a replica that crashed mid-purge purges again when it starts. Frames of the
camera still waiting in `sensr.frames` are dead-lettered as `unknown_camera`, never
stored.

Every replica purges on its own; purges are idempotent (deleting what is gone is a
no-op), so replicas working at once only repeat each other's deletes.
"""

from __future__ import annotations

import threading
import time

from catalog_worker import metrics
from catalog_worker.errors import RecordRefused, TransientError, index_errors
from catalog_worker.known_cameras import DeletionTrackingTable
from catalog_worker.store import ObjectWriter
from sensr.background import BackgroundLoop
from sensr.index import FrameIndex
from sensr.logs import get_logger

log = get_logger(__name__)
ROWS_PER_TRANSACTION = 500
SETTLE_SECONDS = 600.0
"""How long after a deletion its camera is still checked for frames written late."""
WAKE_SECONDS = 1.0  # how often the purge thread looks for new deletions


class CameraPurger:
    def __init__(self, table: DeletionTrackingTable, store: ObjectWriter, index: FrameIndex, interval: float) -> None:
        self._table = table
        self._store = store
        self._index = index
        self._interval = interval
        self._purged: set[str] = set()  # deleted cameras this process has purged once
        self._next_round = 0.0

    def background(self, stop: threading.Event) -> BackgroundLoop:
        """`purge_when_due` every second on its own thread, until `stop`."""
        return BackgroundLoop("camera-purge", self.purge_when_due, WAKE_SECONDS, errors=(TransientError, RecordRefused),
                              stop=stop)

    def purge_when_due(self, stop: threading.Event) -> None:
        """Purge deleted cameras if a deletion was just read or the interval has passed
        since the last round."""
        if not (self._table.deletion_seen.is_set() or time.monotonic() >= self._next_round):
            return
        self._table.deletion_seen.clear()
        self._next_round = time.monotonic() + self._interval
        self.purge_deleted(stop)

    def purge_deleted(self, stop: threading.Event) -> None:
        """Purge each deleted camera the table knows once, and again while it has index
        rows; forget it once it has none and its deletion is settled. Raises
        TransientError if the object store or the index is unavailable."""
        with index_errors():
            indexed = set(self._index.cameras())
        for camera, deleted_at in sorted(self._table.deleted().items()):
            if stop.is_set():
                return
            if self._table.get(camera) is not None:
                continue  # created again since: not ours to delete
            if camera not in self._purged or camera in indexed:
                self.purge(camera, stop)
                self._purged.add(camera)
            elif time.monotonic() - deleted_at > SETTLE_SECONDS:
                self._table.forget(camera)
                self._purged.discard(camera)

    def purge(self, camera: str, stop: threading.Event) -> None:
        """Delete the camera's objects, then its index rows and activity. Raises TransientError if the
        object store or the index is unavailable."""
        objects = self._store.delete_prefix(f"{camera}/")
        frames = 0
        try:
            with index_errors():
                while not stop.is_set() and (rows := self._index.page(camera, limit=ROWS_PER_TRANSACTION).frames):
                    frames += self._index.remove(rows)
                if not stop.is_set():
                    self._index.remove_segments([segment.segment_key for segment in self._index.camera_segments(camera)])
                    self._index.remove_camera_activity(camera)
        finally:
            metrics.CAMERA_PURGED_OBJECTS.inc(objects)
            metrics.CAMERA_PURGED_FRAMES.inc(frames)
        if objects or frames:
            log.info("camera_purged", camera=camera, objects=objects, frames=frames)
