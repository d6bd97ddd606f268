"""Which cameras exist, asked of the `sensr.cameras` table without racing new cameras.

A frame can reach the worker before the worker's table has read its camera's brand-new
record (the edge that accepted the frame already had it). So absence alone proves
nothing: a camera is declared unknown only after the table has caught up with
everything written to the topic up to now. If it cannot catch up (broker unreachable),
the batch is retried rather than its frames dead-lettered.

Presence is not re-checked that way (it would cost a round trip per batch): frames of a
camera deleted a moment ago, accepted while it existed, may still be stored until the
table reads the tombstone.
"""

from __future__ import annotations

from collections.abc import Iterable

from catalog_worker.consumer import TransientError
from sensr.cameras import CameraTable


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
