"""Open uploads told, on the event loop, when their camera's record changes.

The camera table follows `sensr.cameras` on its own thread. A rotated password, a
disabled or a deleted camera must end the uploads already open with the old login
within a second or two, also a stream whose camera sends nothing at the moment: the
table's listener wakes the loop, and each upload of that camera checks its login again
(`auth.HeldLogin`). Only cameras with an open upload cost a wake-up.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from sensr.cameras import CameraTable


class LoginWatch:
    """Calls the `on_change` of each open upload of a camera after its record changed."""

    def __init__(self, cameras: CameraTable) -> None:
        self._watchers: dict[str, set[Callable[[], None]]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        cameras.subscribe(self._record_applied)

    def watch(self, camera: str, on_change: Callable[[], None]) -> Callable[[], None]:
        """Watch `camera` for an upload (on the event loop); returns the function that
        stops watching. A change applied after this call is reported; one applied
        before it is already visible in the table."""
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        watchers = self._watchers.setdefault(camera, set())
        watchers.add(on_change)

        def unwatch() -> None:
            watchers.discard(on_change)
            if not watchers and self._watchers.get(camera) is watchers:
                del self._watchers[camera]

        return unwatch

    def _record_applied(self, camera: str) -> None:
        """The table's thread: wake the loop for a camera with open uploads."""
        loop = self._loop
        if loop is not None and camera in self._watchers:
            loop.call_soon_threadsafe(self._notify, camera)

    def _notify(self, camera: str) -> None:
        for on_change in list(self._watchers.get(camera, ())):
            on_change()
