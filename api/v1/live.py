"""Live view: frames as `multipart/x-mixed-replace` straight from `sensr.frames` (an
<img> tag shows it), and frame-stored events as Server-Sent Events from `sensr.catalog`.

Both answer only once the shared feed reads the topic's end, so everything published
after the response headers arrive reaches the viewer (unless it falls behind: then it
skips the oldest frames, see `api.live`).
"""

from __future__ import annotations

import asyncio
from typing import Generic, TypeVar

from tornado.iostream import StreamClosedError

from api.access import CameraAccess
from api.errors import Unavailable
from api.live import Fanout, Subscription
from api.v1.base import JsonHandler
from api.v1.frames import frame_out
from sensr.frames import FrameEvent
from sensr.index import FrameRecord

T = TypeVar("T")
BOUNDARY = "sensrframe"
READY_TIMEOUT = 10.0
HEARTBEAT_SECONDS = 15.0


class _LiveHandler(JsonHandler, Generic[T]):
    """Subscribes to a feed for the camera, and unsubscribes however the response ends."""

    _subscription: Subscription[T] | None = None

    async def subscribe(self, feed: Fanout[T], camera_id: str) -> tuple[Subscription[T], CameraAccess]:
        access = await self.services.run(self.services.access.readable, camera_id, self.caller)
        self._feed = feed
        self._subscription = feed.subscribe(access.camera.username)
        try:
            await asyncio.wait_for(self._subscription.ready.wait(), READY_TIMEOUT)
        except TimeoutError:
            raise Unavailable("the live feed is not available right now; try again") from None
        return self._subscription, access

    def on_connection_close(self) -> None:
        self._unsubscribe()

    def on_finish(self) -> None:
        self._unsubscribe()

    def _unsubscribe(self) -> None:
        if self._subscription is not None:
            self._feed.unsubscribe(self._subscription)
            self._subscription = None

    def start_stream(self, content_type: str) -> None:
        self.set_header("Content-Type", content_type)
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Accel-Buffering", "no")  # reverse proxies: do not buffer the stream


class LiveMjpegHandler(_LiveHandler[FrameEvent]):
    async def get(self, camera_id: str) -> None:
        subscription, _ = await self.subscribe(self.services.frames_feed, camera_id)
        self.start_stream(f"multipart/x-mixed-replace; boundary={BOUNDARY}")
        try:
            self.write(f"--{BOUNDARY}\r\n".encode())
            await self.flush()
            while (event := await subscription.next()) is not None:
                self.write(part(event))
                await self.flush()
        except StreamClosedError:
            pass  # the viewer went away


def part(event: FrameEvent) -> bytes:
    """One frame as a body part, closed by the next boundary at once (so a browser shows
    it without waiting for the following frame)."""
    headers = (f"Content-Type: image/jpeg\r\nContent-Length: {len(event.jpeg)}\r\n"
               f"X-Frame-Id: {event.frame_id}\r\nX-Timestamp-Us: {event.timestamp_us}\r\n\r\n")
    return headers.encode() + event.jpeg + f"\r\n--{BOUNDARY}\r\n".encode()


class EventsHandler(_LiveHandler[FrameRecord]):
    async def get(self, camera_id: str) -> None:
        """`event: frame` with the frame's JSON (as in the listing) each time one is
        stored; a comment line every 15 s keeps proxies from closing an idle stream."""
        subscription, access = await self.subscribe(self.services.catalog_feed, camera_id)
        self.start_stream("text/event-stream; charset=utf-8")
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
