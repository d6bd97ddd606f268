"""Frames as they are stored, for the web UI's live status (camera list, camera pages,
live view, live wall), as Server-Sent Events over the browser's session or share link.

One stream carries every camera a page shows (the live wall shows all of a user's; one
connection whatever their number, so the browser's per-host connection limit is never
reached). Each `event: frame` holds what a page needs to update its status without a
reload: the camera id, the frame id and time, its size, and the thumbnail and image URLs
of the web UI (which the session cookie opens).
"""

from __future__ import annotations

import json

from api.access import CameraAccess
from api.errors import NotFound
from api.media import FeedHandler, server_sent_event
from api.ui.data import frame_json
from sensr.index import FrameRecord


def frame_event(record: FrameRecord, access: CameraAccess) -> bytes:
    """One `event: frame` of the stream."""
    return server_sent_event("frame", json.dumps(frame_json(record, access)), record.frame_id)


class StatusFeedHandler(FeedHandler[FrameRecord]):
    """`/cameras/<id>/events`: one camera's frames; `/live/events`: all of the logged-in
    user's cameras."""

    stream_type = "text/event-stream; charset=utf-8"

    async def get(self, camera_id: str | None = None) -> None:
        accesses = await self._cameras(camera_id)
        feed = self.services.catalog_feed
        subscriptions = await self.follow([(feed, access.camera.username) for access in accesses])
        by_username = {access.camera.username: access for access in accesses}
        self.start_stream(self.stream_type)
        await self.write_events(subscriptions, lambda record: frame_event(record, by_username[record.camera]))

    async def head(self, camera_id: str | None = None) -> None:
        await self._cameras(camera_id)
        self.start_stream(self.stream_type)
        self.finish()

    async def _cameras(self, camera_id: str | None) -> list[CameraAccess]:
        if camera_id is not None:
            return [await self.readable_camera(camera_id)]
        user = self.current_user
        if user is None:
            raise NotFound("log in to follow your cameras")
        cameras = await self.services.run(self.services.cameras.owned_by, user.id)
        return [CameraAccess(camera=camera, is_owner=True, share_token=None) for camera in cameras]
