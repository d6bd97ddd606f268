"""Frames as they are stored, for the web UI's live status (camera list, camera pages,
live view, live wall), as Server-Sent Events over the browser's session or share link.

One stream carries every camera a page shows (the live wall shows all of a user's; one
connection whatever their number, so the browser's per-host connection limit is never
reached). Each `event: frame` holds what a page needs to update its status without a
reload: the camera id, the frame id and time, its size, and the thumbnail and image URLs
of the web UI (which the session cookie opens).
"""

from __future__ import annotations

import asyncio
import json

from tornado.iostream import StreamClosedError

from api.access import CameraAccess
from api.errors import NotFound, Unavailable
from api.handlers import JsonHandler
from api.live import Subscription
from api.media import READY_TIMEOUT
from api.ui.data import frame_json
from sensr.index import FrameRecord

HEARTBEAT_SECONDS = 15.0
MERGED_QUEUE = 256
"""Events waiting for a slow page; past that the oldest go (the page wants the newest)."""
STREAM_TYPE = "text/event-stream; charset=utf-8"


def frame_event(record: FrameRecord, access: CameraAccess) -> bytes:
    """One `event: frame` of the stream."""
    return f"id: {record.frame_id}\nevent: frame\ndata: {json.dumps(frame_json(record, access))}\n\n".encode()


class StatusFeedHandler(JsonHandler):
    """`/cameras/<id>/events`: one camera's frames; `/live/events`: all of the logged-in
    user's cameras."""

    _subscriptions: list[Subscription[FrameRecord]]

    async def get(self, camera_id: str | None = None) -> None:
        accesses = await self._cameras(camera_id)
        feed = self.services.catalog_feed
        self._subscriptions = [feed.subscribe(access.camera.username) for access in accesses]
        try:
            await asyncio.wait_for(asyncio.gather(*(sub.ready.wait() for sub in self._subscriptions)), READY_TIMEOUT)
        except TimeoutError:
            raise Unavailable("the live feed is not available right now; try again") from None
        by_username = {access.camera.username: access for access in accesses}
        merged: asyncio.Queue[FrameRecord | None] = asyncio.Queue(MERGED_QUEUE)
        pumps = [asyncio.ensure_future(_pump(sub, merged)) for sub in self._subscriptions]
        self.set_header("Content-Type", STREAM_TYPE)
        self.set_header("X-Accel-Buffering", "no")
        try:
            self.write(b"retry: 3000\n\n")
            await self.flush()
            while True:
                try:
                    record = await asyncio.wait_for(merged.get(), HEARTBEAT_SECONDS)
                except TimeoutError:
                    self.write(b": keep-alive\n\n")
                else:
                    if record is None:
                        break
                    self.write(frame_event(record, by_username[record.camera]))
                await self.flush()
        except StreamClosedError:
            pass  # the page went away
        finally:
            for pump in pumps:
                pump.cancel()

    async def head(self, camera_id: str | None = None) -> None:
        await self._cameras(camera_id)
        self.set_header("Content-Type", STREAM_TYPE)
        self.finish()

    async def _cameras(self, camera_id: str | None) -> list[CameraAccess]:
        if camera_id is not None:
            return [await self.readable_camera(camera_id)]
        user = self.current_user
        if user is None:
            raise NotFound("log in to follow your cameras")
        cameras = await self.services.run(self.services.cameras.owned_by, user.id)
        return [CameraAccess(camera=camera, is_owner=True, share_token=None) for camera in cameras]

    def on_connection_close(self) -> None:
        self._unsubscribe()

    def on_finish(self) -> None:
        self._unsubscribe()

    def _unsubscribe(self) -> None:
        for sub in getattr(self, "_subscriptions", ()):
            self.services.catalog_feed.unsubscribe(sub)
        self._subscriptions = []


async def _pump(sub: Subscription[FrameRecord], into: asyncio.Queue[FrameRecord | None]) -> None:
    while (record := await sub.next()) is not None:
        if into.full():
            into.get_nowait()
        into.put_nowait(record)
