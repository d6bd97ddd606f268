"""`POST`/`PUT /photo/<camera>`: one JPEG per request, answered 200 only once Kafka has it."""

from __future__ import annotations

import tornado.web

from ingest_http.publisher import PublishError
from ingest_http.upload import UploadContext, UploadHandler, UploadRejected
from sensr.frame_check import vet_upload
from sensr.frames import FrameEvent
from sensr.scanner import JpegError

BODY_SLACK = 64 * 1024
"""Room beyond the frame limit for bytes around the JPEG (a trailing CRLF, a stray
multipart wrapper) that `extract_single_jpeg` tolerates."""


@tornado.web.stream_request_body
class PhotoHandler(UploadHandler):
    """Streams the body in (never buffering past the size limit), checks that it is
    exactly one complete JPEG the catalog worker can store, publishes it and waits for
    the acknowledgement."""

    SUPPORTED_METHODS = ("POST", "PUT")

    def initialize(self, context: UploadContext) -> None:
        super().initialize(context)
        self._chunks: list[bytes] = []
        self._size = 0

    @property
    def _max_body(self) -> int:
        return self.context.max_frame_bytes + BODY_SLACK

    async def prepare(self) -> None:
        await super().prepare()
        length = self.content_length()
        if self.rejection is None and length is not None and length > self._max_body:
            await self.refuse(self._too_large())

    def data_received(self, chunk: bytes) -> None:
        self.body_arrived()
        if self.rejection is not None:
            return  # refused already: dropped until the connection is closed
        self._size += len(chunk)
        if self._size <= self._max_body:
            self._chunks.append(chunk)
            return
        # Only a body without Content-Length gets here: answer at once; Tornado then
        # stops handing us the body and closes the connection after the response.
        self._chunks.clear()
        self.rejection = self._too_large()
        self.send_error(413, exc_info=(UploadRejected, self.rejection, None))

    async def post(self, camera: str) -> None:
        self.body_complete()
        if self.rejection is not None:
            self.close_refused()
            return
        revoked = self.login_revoked()
        if revoked is not None:
            raise revoked
        jpeg = self._single_jpeg()
        event = FrameEvent.new(self.camera, jpeg, "http", client=self.request.remote_ip or "")
        try:
            await self.context.publisher.publish(event)
        except PublishError as error:
            raise UploadRejected(503, "kafka_unavailable", f"the photo was not stored: {error}",
                                 {"Retry-After": "10"}) from None
        self.finish({"frame_id": event.frame_id, "timestamp_us": event.timestamp_us, "bytes": len(jpeg)})

    put = post

    def _single_jpeg(self) -> bytes:
        body = b"".join(self._chunks)  # one chunk: no copy
        self._chunks = []
        try:
            return vet_upload(body, self.context.max_frame_bytes, self.context.max_frame_pixels)
        except JpegError as error:
            status = 413 if error.reason in ("too_large", "too_many_pixels") else 400
            raise UploadRejected(status, error.reason, str(error)) from None

    def _too_large(self) -> UploadRejected:
        return UploadRejected(413, "too_large",
                              f"the photo is larger than the limit of {self.context.max_frame_bytes} bytes")
