"""A camera's live events as Server-Sent Events: `event: frame` for each frame stored
(from `sensr.catalog`), `event: activity` for each motion event's start, update and end
(relayed from `sensr.activity`), and, for callers who may use the camera's clips,
`event: clip` with a clip's progress and outcome (from `sensr.clip-progress`). The live
view itself, MJPEG, is `api.media`'s, served to both surfaces."""

from __future__ import annotations

import json
from typing import Any

from api.access import CameraAccess
from api.clip_media import clip_event
from api.errors import ApiError
from api.live import Fanout
from api.media import FeedHandler, server_sent_event
from api.v1.activity import event_out
from api.v1.frames import frame_out
from api.v1.models import ActivityMessage
from sensr.activity import EventRecord, Transition
from sensr.clips import ClipProgress
from sensr.index import FrameRecord


class EventsHandler(FeedHandler[Any]):
    stream_type = "text/event-stream; charset=utf-8"

    async def get(self, camera_id: str) -> None:
        """`event: frame` with the frame's JSON (as in the listing) each time one is
        stored, `event: activity` with an `ActivityMessage` each time a motion event
        starts, grows or ends (its `id` is the record's, the same when a record is sent
        again: deduplicate by it), `event: clip` with a clip's progress; a comment line
        every 15 s keeps proxies from closing an idle stream. Each kind is in order, not
        with the others."""
        feeds: list[Fanout[Any]] = [self.services.catalog_feed, self.services.activity_feed]
        if await self._may_follow_clips(camera_id):
            feeds.append(self.services.clips_feed)
        subscriptions, access = await self.subscribe_all(camera_id, *feeds)
        self.start_stream(self.stream_type)
        await self.write_events(subscriptions, lambda item: _message(item, access))

    async def _may_follow_clips(self, camera_id: str) -> bool:
        """Whether the caller may use the camera's clips (a reader who may not gets frame
        and activity events only)."""
        try:
            await self.clip_camera(camera_id)
        except ApiError:
            return False
        return True


def _message(item: Any, access: CameraAccess) -> bytes:
    """One server-sent event; nothing for an activity record that is no event's (a camera
    going offline or online is the notifier's to tell)."""
    if isinstance(item, FrameRecord):
        return server_sent_event("frame", frame_out(item, access).model_dump_json(), item.frame_id)
    if isinstance(item, EventRecord):
        message = ActivityMessage(id=item.record_id, type=str(item.type),
                                  event=event_out(item.event, item.transition is Transition.END, access))
        return server_sent_event("activity", message.model_dump_json(), item.record_id)
    if isinstance(item, ClipProgress):
        return server_sent_event("clip", json.dumps(clip_event(item, access.camera.id)))
    return b""
