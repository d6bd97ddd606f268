"""A camera's live events as Server-Sent Events: `event: frame` for each frame stored
(from `sensr.catalog`) and `event: activity` for each motion event's start, update and
end (relayed from `sensr.activity`). The live view itself, MJPEG, is `api.media`'s,
served to both surfaces."""

from __future__ import annotations

import asyncio
from typing import Any

from tornado.iostream import StreamClosedError

from api.access import CameraAccess
from api.live import Subscription
from api.media import FeedHandler
from api.v1.activity import event_out
from api.v1.frames import frame_out
from api.v1.models import ActivityMessage
from sensr.activity import EventRecord, Transition
from sensr.index import FrameRecord

HEARTBEAT_SECONDS = 15.0


class EventsHandler(FeedHandler[Any]):
    async def get(self, camera_id: str) -> None:
        """`event: frame` with the frame's JSON (as in the listing) each time one is
        stored, `event: activity` with an `ActivityMessage` each time a motion event
        starts, grows or ends (its `id` is the record's, the same when a record is sent
        again: deduplicate by it); a comment line every 15 s keeps proxies from closing an
        idle stream. Frames and activity are each in order, not with each other."""
        subscriptions, access = await self.subscribe_all(camera_id, self.services.catalog_feed,
                                                         self.services.activity_feed)
        self.start_stream("text/event-stream; charset=utf-8")
        waiting: dict[asyncio.Future[Any], Subscription[Any]] = {
            asyncio.ensure_future(sub.next()): sub for sub in subscriptions}
        try:
            self.write(b"retry: 3000\n\n")
            await self.flush()
            while True:
                done, _ = await asyncio.wait(waiting, timeout=HEARTBEAT_SECONDS,
                                             return_when=asyncio.FIRST_COMPLETED)
                if not done:
                    self.write(b": keep-alive\n\n")
                for arrived in done:
                    subscription = waiting.pop(arrived)
                    item = arrived.result()
                    if item is None:
                        return
                    self.write(_message(item, access))
                    waiting[asyncio.ensure_future(subscription.next())] = subscription
                await self.flush()
        except StreamClosedError:
            pass  # the viewer went away
        finally:
            for pending in waiting:
                pending.cancel()


def _message(item: FrameRecord | Any, access: CameraAccess) -> bytes:
    """One server-sent event; nothing for an activity record that is no event's (a camera
    going offline or online is the notifier's to tell)."""
    if isinstance(item, FrameRecord):
        return f"id: {item.frame_id}\nevent: frame\ndata: {frame_out(item, access).model_dump_json()}\n\n".encode()
    if isinstance(item, EventRecord):
        message = ActivityMessage(id=item.record_id, type=str(item.type),
                                  event=event_out(item.event, item.transition is Transition.END, access))
        return f"id: {item.record_id}\nevent: activity\ndata: {message.model_dump_json()}\n\n".encode()
    return b""
