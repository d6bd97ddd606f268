"""Which cameras exist, asked of the `sensr.cameras` table without racing new cameras.

A frame can reach the worker before the worker's table has read its camera's brand-new
record (the edge that accepted the frame already had it). So absence alone proves
nothing: a camera is declared unknown only after the table has caught up with
everything written to the topic up to now. If it cannot catch up (broker unreachable),
the batch is retried rather than its frames dead-lettered.

Presence is not re-checked that way (it would cost a round trip per batch): frames of a
camera deleted a moment ago, accepted while it existed, may still be stored until the
table reads the tombstone; the camera purge (`purge`, fed by `DeletionTrackingTable`)
then removes them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

from catalog_worker.errors import TransientError
from sensr.cameras import CameraTable
from sensr.settings import CoreSettings, KafkaSettings


class DeletionTrackingTable(CameraTable):
    """The camera table, also remembering which cameras were deleted (tombstoned, not
    created again) since it began reading `sensr.cameras`, and when it read each
    deletion: the work list of `purge.CameraPurger`. The table reads the topic from its
    start, so after a restart it knows the deletions the topic still holds."""

    def __init__(self, core: CoreSettings, kafka: KafkaSettings) -> None:
        super().__init__(core, kafka)
        self._deleted: dict[str, float] = {}
        self._deleted_lock = threading.Lock()
        self.deletion_seen = threading.Event()
        """Set when a deletion is read; cleared by whoever acts on it."""

    def apply(self, key: bytes, value: bytes | None) -> None:
        super().apply(key, value)
        username = key.decode()
        with self._deleted_lock:
            if value is None:
                self._deleted.setdefault(username, time.monotonic())
                self.deletion_seen.set()
            else:
                self._deleted.pop(username, None)

    def deleted(self) -> dict[str, float]:
        """Deleted cameras, each with the `time.monotonic()` at which its deletion was read."""
        with self._deleted_lock:
            return dict(self._deleted)

    def forget(self, username: str) -> None:
        """Drop a deleted camera from the work list (it has been purged for good)."""
        with self._deleted_lock:
            self._deleted.pop(username, None)


class KnownCameras:
    def __init__(self, table: CameraTable, sync_timeout: float, default_retention_days: int) -> None:
        self._table = table
        self._sync_timeout = sync_timeout
        self._default_retention_days = default_retention_days

    def unknown(self, cameras: Iterable[str]) -> set[str]:
        """The cameras among `cameras` that are deleted or were never registered.
        May block up to the sync timeout; raises TransientError if the table cannot catch up."""
        missing = {camera for camera in cameras if self._table.get(camera) is None}
        if not missing:
            return missing
        if not self._table.sync(self._sync_timeout):
            raise TransientError("cameras", f"camera table did not catch up within {self._sync_timeout:.0f} s")
        return {camera for camera in missing if self._table.get(camera) is None}

    def retention_days(self, camera: str) -> int:
        """The camera's retention, or the default when it sets none (or is gone).
        Zero or less means: keep its frames forever."""
        login = self._table.get(camera)
        if login is None or login.retention_days is None:
            return self._default_retention_days
        return login.retention_days

    def unmoving_keep_hours(self, camera: str) -> int | None:
        """Hours the camera's frames that belong to no motion event are kept when it keeps
        only what matters ("keep what matters" on); None when it keeps every frame (off,
        the default, or the camera is gone)."""
        login = self._table.get(camera)
        if login is None or not login.keep_what_matters:
            return None
        return login.unmoving_keep_hours
