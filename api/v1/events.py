"""A camera's events as Server-Sent Events: `event: frame` each time a frame is stored
(from `sensr.catalog`), and, for callers who may use the camera's clips, `event: clip`
with a clip's progress and outcome (from `sensr.clip-progress`). The live view itself,
MJPEG, is `api.media`'s, served to both surfaces."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tornado.iostream import StreamClosedError

from api.clip_media import clip_event
from api.errors import ApiError, Unavailable
from api.live import Subscription
from api.media import READY_TIMEOUT, FeedHandler
from api.v1.frames import frame_out
from sensr.clips import ClipProgress
from sensr.index import FrameRecord

HEARTBEAT_SECONDS = 15.0


class EventsHandler(FeedHandler[FrameRecord]):
    _clips: Subscription[ClipProgress] | None = None

    async def get(self, camera_id: str) -> None:
        """A comment line every 15 s keeps proxies from closing an idle stream."""
        subscription, access = await self.subscribe(self.services.catalog_feed, camera_id)
        try:
            await self.clip_camera(camera_id)
        except ApiError:
            pass  # a reader who may not use clips gets frame events only
        else:
            self._clips = self.services.clips_feed.subscribe(access.camera.username)
            try:
                await asyncio.wait_for(self._clips.ready.wait(), READY_TIMEOUT)
            except TimeoutError:
                raise Unavailable("the clip progress feed is not available right now; try again") from None
        self.start_stream("text/event-stream; charset=utf-8")
        pending: dict[asyncio.Task[Any], str] = {}
        try:
            self.write(b"retry: 3000\n\n")
            await self.flush()
            while True:
                if "frame" not in pending.values():
                    pending[asyncio.ensure_future(subscription.next())] = "frame"
                if self._clips is not None and "clip" not in pending.values():
                    pending[asyncio.ensure_future(self._clips.next())] = "clip"
                done, _ = await asyncio.wait(pending, timeout=HEARTBEAT_SECONDS, return_when=asyncio.FIRST_COMPLETED)
                if not done:
                    self.write(b": keep-alive\n\n")
                for task in done:
                    kind, item = pending.pop(task), task.result()
                    if item is None:
                        return
                    if kind == "frame":
                        data = frame_out(item, access).model_dump_json()
                        self.write(f"id: {item.frame_id}\nevent: frame\ndata: {data}\n\n".encode())
                    else:
                        self.write(f"event: clip\ndata: {json.dumps(clip_event(item, access.camera.id))}\n\n".encode())
                await self.flush()
        except StreamClosedError:
            pass  # the viewer went away
        finally:
            for task in pending:
                task.cancel()

    def _unsubscribe(self) -> None:
        super()._unsubscribe()
        if self._clips is not None:
            self.services.clips_feed.unsubscribe(self._clips)
            self._clips = None

