"""Frame-stored events of a camera as Server-Sent Events, from `sensr.catalog` (the live
view itself, MJPEG, is `api.media`'s, served to both surfaces)."""

from __future__ import annotations

import asyncio

from tornado.iostream import StreamClosedError

from api.media import FeedHandler
from api.v1.frames import frame_out
from sensr.index import FrameRecord

HEARTBEAT_SECONDS = 15.0


class EventsHandler(FeedHandler[FrameRecord]):
    stream_type = "text/event-stream; charset=utf-8"

    async def get(self, camera_id: str) -> None:
        """`event: frame` with the frame's JSON (as in the listing) each time one is
        stored; a comment line every 15 s keeps proxies from closing an idle stream."""
        subscription, access = await self.subscribe(self.services.catalog_feed, camera_id)
        self.start_stream(self.stream_type)
        try:
            self.write(b"retry: 3000\n\n")
            await self.flush()
            while True:
                try:
                    record = await asyncio.wait_for(subscription.next(), HEARTBEAT_SECONDS)
                except TimeoutError:
                    self.write(b": keep-alive\n\n")
                else:
                    if record is None:
                        break
                    data = frame_out(record, access).model_dump_json()
                    self.write(f"id: {record.frame_id}\nevent: frame\ndata: {data}\n\n".encode())
                await self.flush()
        except StreamClosedError:
            pass  # the viewer went away
