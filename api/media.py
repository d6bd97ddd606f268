"""Frame images, thumbnails and the live view, served alike to both surfaces: the JSON API
routes them under `/api/v1/cameras/...` with its own callers (bearer token, share link),
the web UI under `/cameras/...` with a browser's (session cookie, share link), so an
`<img>` tag shows a private camera to its owner. Errors are JSON on both.

Images are streamed from the bucket (`api.images`). The live view is `multipart/
x-mixed-replace` straight from `sensr.frames` (an <img> tag shows it); `FeedHandler`
follows a shared feed (`api.live`) for it and for the server-sent events of both
surfaces (`write_events`, the one loop they are written with). A
feed answers only once it reads the topic's end, so everything published after the
response headers arrive reaches the viewer (unless it falls behind: then it skips the
oldest frames, see `api.live`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from tornado.iostream import StreamClosedError

from api.access import CameraAccess
from api.errors import Unavailable
from api.exports import attachment, frame_file_name
from api.handlers import JsonHandler
from api.images import CACHE_FOREVER, etag_matches, frame_etag
from api.live import Fanout, Subscription
from sensr.frames import FrameEvent
from sensr.index import FrameRecord

T = TypeVar("T")
BOUNDARY = "sensrframe"
READY_TIMEOUT = 10.0
HEARTBEAT_SECONDS = 15.0


def server_sent_event(event: str, data: str, event_id: str | None = None) -> bytes:
    """One event of a `text/event-stream`: its id (if any), name and one line of data."""
    head = "" if event_id is None else f"id: {event_id}\n"
    return f"{head}event: {event}\ndata: {data}\n\n".encode()


class ImageHandler(JsonHandler):
    """The original JPEG, streamed from the bucket."""

    variant = "image"

    def compute_etag(self) -> None:
        return None  # set by get(): derived from the frame id, checked before reading S3

    async def get(self, camera_id: str, frame_id: str) -> None:
        access = await self.readable_camera(camera_id)
        frame = await self.frame(access, frame_id)
        etag = frame_etag(frame.frame_id, self.variant)
        self.set_header("ETag", etag)
        self.set_header("Cache-Control", f"private, {CACHE_FOREVER}")
        if etag_matches(self.request.headers.get("If-None-Match"), etag):
            self.set_status(304)
            self.clear_header("Content-Type")
            self.finish()
            return
        self.describe_file(access, frame)
        jpeg = await self.services.objects.frame(frame, thumbnail=self.variant == "thumbnail")
        self.set_header("Content-Type", "image/jpeg")
        self.set_header("Content-Length", len(jpeg))
        try:
            await self.finish(jpeg)
        except StreamClosedError:
            return  # the client went away mid-image


    def describe_file(self, access: CameraAccess, frame: FrameRecord) -> None:
        """Headers that say what the file is, beyond its type; none for an image to show."""


class DownloadHandler(ImageHandler):
    """The original JPEG as a file to save (`Content-Disposition: attachment`), named after
    the camera and the frame's timestamp."""

    variant = "download"

    def describe_file(self, access: CameraAccess, frame: FrameRecord) -> None:
        self.set_header("Content-Disposition", attachment(frame_file_name(access.camera.name, frame)))


class ThumbnailHandler(ImageHandler):
    """The frame's thumbnail JPEG, streamed from the bucket."""

    variant = "thumbnail"


class FeedHandler(JsonHandler, Generic[T]):
    """Subscribes to feeds for the camera, and unsubscribes however the response ends."""

    _subscriptions: tuple[tuple[Fanout[Any], Subscription[Any]], ...] = ()
    stream_type: str = ""
    """The Content-Type of the stream."""

    async def head(self, camera_id: str) -> None:
        """The stream's headers, without following the feed (a HEAD has no body to wait for)."""
        await self.readable_camera(camera_id)
        self.start_stream(self.stream_type)
        self.finish()

    async def subscribe(self, feed: Fanout[T], camera_id: str) -> tuple[Subscription[T], CameraAccess]:
        subscriptions, access = await self.subscribe_all(camera_id, feed)
        return subscriptions[0], access

    async def subscribe_all(self, camera_id: str,
                            *feeds: Fanout[Any]) -> tuple[list[Subscription[Any]], CameraAccess]:
        """One subscription per feed to the camera's items, once every feed is ready."""
        access = await self.readable_camera(camera_id)
        return await self.follow([(feed, access.camera.username) for feed in feeds]), access

    async def follow(self, wanted: Sequence[tuple[Fanout[Any], str]]) -> list[Subscription[Any]]:
        """One subscription per (feed, camera username), once every one is ready."""
        self._subscriptions = tuple((feed, feed.subscribe(username)) for feed, username in wanted)
        try:
            await asyncio.wait_for(asyncio.gather(*(sub.ready.wait() for _, sub in self._subscriptions)),
                                   READY_TIMEOUT)
        except TimeoutError:
            raise Unavailable("the live feed is not available right now; try again") from None
        return [sub for _, sub in self._subscriptions]

    async def write_events(self, subscriptions: Sequence[Subscription[Any]], message: Callable[[Any], bytes],
                           first: Sequence[bytes] = ()) -> None:
        """Server-Sent Events: `first`, then `message(item)` for each item of any of the
        subscriptions as it comes (each subscription's in order, not with the others), and a
        comment line every HEARTBEAT_SECONDS of silence so proxies keep an idle stream open.
        Returns when a subscription closes or the client goes away. Call `start_stream` first."""
        waiting: dict[asyncio.Future[Any], Subscription[Any]] = {
            asyncio.ensure_future(sub.next()): sub for sub in subscriptions}
        try:
            self.write(b"retry: 3000\n\n" + b"".join(first))
            await self.flush()
            while True:
                if waiting:
                    done, _ = await asyncio.wait(waiting, timeout=HEARTBEAT_SECONDS,
                                                 return_when=asyncio.FIRST_COMPLETED)
                else:  # nothing to follow (a live wall without cameras): heartbeats only
                    await asyncio.sleep(HEARTBEAT_SECONDS)
                    done = set()
                if not done:
                    self.write(b": keep-alive\n\n")
                for arrived in done:
                    subscription = waiting.pop(arrived)
                    item = arrived.result()
                    if item is None:
                        return
                    self.write(message(item))
                    waiting[asyncio.ensure_future(subscription.next())] = subscription
                await self.flush()
        except StreamClosedError:
            pass  # the viewer went away
        finally:
            for pending in waiting:
                pending.cancel()

    def on_connection_close(self) -> None:
        self._unsubscribe()

    def on_finish(self) -> None:
        self._unsubscribe()

    def _unsubscribe(self) -> None:
        subscriptions, self._subscriptions = self._subscriptions, ()
        for feed, subscription in subscriptions:
            feed.unsubscribe(subscription)

    def start_stream(self, content_type: str) -> None:
        self.set_header("Content-Type", content_type)
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Accel-Buffering", "no")  # reverse proxies: do not buffer the stream


class LiveMjpegHandler(FeedHandler[FrameEvent]):
    stream_type = f"multipart/x-mixed-replace; boundary={BOUNDARY}"

    async def get(self, camera_id: str) -> None:
        subscription, _ = await self.subscribe(self.services.frames_feed, camera_id)
        self.start_stream(self.stream_type)
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
