"""`POST /upload/<camera>`: an MJPEG stream, split into frames as its bytes arrive.

The body (raw concatenated JPEGs or `multipart/x-mixed-replace` parts, chunked or with
a Content-Length; a request with neither has no body in HTTP and gets 411) goes
through `FrameScanner` chunk by chunk. Each frame is stamped the moment it is split out
(its Sensr timestamp), numbered from 0 within the stream (the `sequence` header, beside
a `stream-id` ULID per upload), and sent to Kafka at once, keyed by camera. When too
many of the stream's bytes await Kafka's acknowledgement, `data_received` returns an
awaitable and Tornado stops reading the socket until there is room again: a slow
broker slows the camera instead of filling memory. At the end of the body the response
reports, once every frame is acknowledged, how many frames were stored and how many
bytes became no frame.

Each frame must pass `sensr.frame_check.check_frame`, as a photo must: a frame the
catalog worker could not store (too many pixels, a coding or precision it cannot
decode) is not published, and the stream goes on with the next frame; the response
counts such frames by reason (`refused_frames`).

Each chunk is published only while the camera's login still holds: a rotated password,
a disabled or deleted camera ends the stream at once (see `upload`).

A frame cut off by a disconnect is never published: the scanner emits only complete
frames, and what it holds when the connection drops is dropped with it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import asdict, dataclass
from functools import partial

import tornado.web

from ingest_http import metrics
from ingest_http.publisher import PublishError, Publisher
from ingest_http.upload import UploadContext, UploadHandler, UploadRejected
from sensr.frame_check import check_frame
from sensr.frames import FrameEvent, new_frame_id, now_us
from sensr.logs import get_logger
from sensr.scanner import FrameScanner, JpegError

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class StreamSummary:
    """What became of a stream's bytes (the JSON answer to the upload)."""

    stream_id: str
    frames: int
    skipped_bytes: int
    truncated_bytes: int
    oversized_frames: int
    refused_frames: dict[str, int]
    """Complete frames not published because the catalog worker could not store them,
    by reason ('too_many_pixels', 'unsupported', 'not_jpeg')."""


class FrameStream:
    """One MJPEG upload: splits it, publishes each frame at once and tracks the acks.

    `failed` is set (and `on_failure` called once) when Kafka did not acknowledge a
    frame; the caller then ends the upload, as nothing after it can be answered 200.
    """

    def __init__(self, camera: str, client: str, publisher: Publisher, max_frame_bytes: int,
                 in_flight_limit: int, max_frame_pixels: int) -> None:
        self.camera, self.client = camera, client
        self.stream_id = new_frame_id(now_us())
        self.failed: PublishError | None = None
        self._publisher = publisher
        self._scanner = FrameScanner(max_frame_bytes)
        self._in_flight_limit = in_flight_limit
        self._max_frame_pixels = max_frame_pixels
        self._refused: dict[str, int] = {}
        self._in_flight_bytes = 0
        self._pending: set[asyncio.Future[None]] = set()
        self._room: asyncio.Future[None] | None = None
        self._sent = 0
        self._acked = 0
        self._counted = {"skipped": 0, "truncated": 0, "oversized": 0, "oversized_frames": 0}

    def feed(self, chunk: bytes) -> Awaitable[None] | None:
        """Split `chunk` and publish the frames it completes, in order.

        Returns an awaitable (do not read on until it resolves) when the stream has more
        than its limit of bytes awaiting acknowledgement, else None.
        """
        for jpeg in self._scanner.feed(chunk):
            try:
                check_frame(jpeg, self._max_frame_pixels)
            except JpegError as error:
                self._refused[error.reason] = self._refused.get(error.reason, 0) + 1
                metrics.REJECTS.labels(f"frame_{error.reason}").inc()
                continue
            event = FrameEvent.new(self.camera, jpeg, "mjpeg", self.client,
                                   stream_id=self.stream_id, sequence=self._sent)
            self._sent += 1
            ack = self._publisher.send(event)
            self._pending.add(ack)
            self._in_flight_bytes += len(jpeg)
            ack.add_done_callback(partial(self._settled, len(jpeg)))
        self._count_discarded()
        if self._in_flight_bytes > self._in_flight_limit and self.failed is None:
            return self._wait_for_room()
        return None

    async def finish(self) -> StreamSummary:
        """End of the body: wait until every frame is acknowledged; raises PublishError."""
        self._scanner.finish()
        self._count_discarded()
        if self._pending:
            await asyncio.wait(list(self._pending))
        if self.failed is not None:
            raise self.failed
        return self.summary()

    def abort(self) -> None:
        """The client went away: drop the frame in progress (frames already split stay sent)."""
        self._scanner.finish()
        self._count_discarded()

    @property
    def sent(self) -> int:
        """Frames handed to Kafka so far (acknowledged or not)."""
        return self._sent

    def summary(self) -> StreamSummary:
        """The counts so far; `frames` counts acknowledged frames only."""
        scanner = self._scanner
        return StreamSummary(self.stream_id, self._acked, scanner.skipped_bytes, scanner.truncated_bytes,
                             scanner.oversized_frames, dict(self._refused))

    async def _wait_for_room(self) -> None:
        loop = asyncio.get_running_loop()
        while self._in_flight_bytes > self._in_flight_limit and self.failed is None:
            self._room = loop.create_future()
            await self._room

    def _settled(self, size: int, ack: asyncio.Future[None]) -> None:
        self._pending.discard(ack)
        self._in_flight_bytes -= size
        error = ack.exception()
        if error is None:
            self._acked += 1
        elif self.failed is None:
            self.failed = error if isinstance(error, PublishError) else PublishError(str(error))
        if self._room is not None and not self._room.done():
            self._room.set_result(None)

    def _count_discarded(self) -> None:
        """Move the scanner's new discard counts into the metrics (live, for long streams)."""
        scanner, counted = self._scanner, self._counted
        for kind, total in (("skipped", scanner.skipped_bytes), ("truncated", scanner.truncated_bytes),
                            ("oversized", scanner.oversized_bytes)):
            if total > counted[kind]:
                metrics.STREAM_DISCARDED_BYTES.labels(kind).inc(total - counted[kind])
                counted[kind] = total
        if scanner.oversized_frames > counted["oversized_frames"]:
            metrics.REJECTS.labels("frame_too_large").inc(scanner.oversized_frames - counted["oversized_frames"])
            counted["oversized_frames"] = scanner.oversized_frames


@tornado.web.stream_request_body
class StreamHandler(UploadHandler):
    """Feeds the body to a `FrameStream`, pausing the socket while Kafka catches up."""

    SUPPORTED_METHODS = ("POST",)

    def initialize(self, context: UploadContext) -> None:
        super().initialize(context)
        self._frames: FrameStream | None = None
        self._body_done = False

    async def prepare(self) -> None:
        await super().prepare()
        if self.rejection is not None:
            return
        headers = self.request.headers
        if "Content-Length" not in headers and "Transfer-Encoding" not in headers:
            # HTTP gives such a request no body at all; without this answer the stream's
            # bytes would be taken for the next request.
            raise UploadRejected(411, "length_required", "send the stream with Transfer-Encoding: chunked "
                                                         "(or a Content-Length)")
        context = self.context
        self._frames = FrameStream(self.camera, self.request.remote_ip or "", context.publisher,
                                   context.max_frame_bytes, context.stream_in_flight_bytes, context.max_frame_pixels)
        metrics.STREAMS.inc()
        log.info("stream_started", camera=self.camera, client=self.request.remote_ip,
                 stream_id=self._frames.stream_id)

    def data_received(self, chunk: bytes) -> Awaitable[None] | None:
        self.body_arrived()
        if self._frames is None or self._frames.failed is not None:
            return None  # refused, or the 503 is on its way; Tornado stops reading after it
        revoked = self.login_revoked()
        if revoked is not None:
            self.end_revoked(revoked)
            return None
        waiting = self._frames.feed(chunk)
        if self._frames.failed is not None:
            self._refuse_now()
            return None
        return self._held_back(waiting) if waiting is not None else None

    async def _held_back(self, waiting: Awaitable[None]) -> None:
        self.hold_client(True)
        try:
            await waiting
        finally:
            self.hold_client(False)
        if self._frames is not None and self._frames.failed is not None:
            self._refuse_now()

    async def post(self, camera: str) -> None:
        self.body_complete()
        if self.rejection is not None:
            self.close_refused()
            return
        assert self._frames is not None
        self._body_done = True
        try:
            summary = await self._frames.finish()
        except PublishError as error:
            self._ended("kafka_unavailable")
            raise self._unavailable(error) from None
        self._ended("completed")
        self.finish(asdict(summary))

    def on_connection_close(self) -> None:
        # After the whole body, a client may close without reading the answer (ffmpeg
        # does): post() still waits for the acks and logs the stream's end.
        if self._frames is not None and not self._body_done:
            self._frames.abort()
            self._ended("disconnected")
        super().on_connection_close()

    def end_revoked(self, rejection: UploadRejected) -> None:
        """Publish nothing more (the frame in progress is dropped) and answer."""
        if self._frames is not None:
            self._frames.abort()
            self._ended("login_revoked")
        super().end_revoked(rejection)

    def _refuse_now(self) -> None:
        """Kafka lost a frame: answer 503 now; Tornado drops the rest of the body and
        closes the connection after the response."""
        if self._finished or self._frames is None or self._frames.failed is None:
            return
        rejection = self._unavailable(self._frames.failed)
        self.send_error(503, exc_info=(UploadRejected, rejection, None))
        self._ended("kafka_unavailable")

    def _unavailable(self, error: PublishError) -> UploadRejected:
        return UploadRejected(503, "kafka_unavailable", f"a frame of the stream was not stored: {error}",
                              {"Retry-After": "10"})

    def _ended(self, how: str) -> None:
        """Log the stream's end once, whichever way it ends."""
        if self._frames is None:
            return
        frames, self._frames = self._frames, None
        metrics.STREAMS.dec()
        log.info("stream_ended", how=how, camera=self.camera, client=self.request.remote_ip,
                 frames_sent=frames.sent, **asdict(frames.summary()))
