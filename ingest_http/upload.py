"""What the photo and stream endpoints share: the login check in `prepare()`, a silence
timeout on the body, and refusals turned into JSON responses in one place.

Why the login is checked in `prepare()`: Tornado answers `Expect: 100-continue` only
after `prepare()` returns, so a refused client (ffmpeg, curl with a large file) gets its
401/403/404/413 before it sends the body. A refused client that sends the body without
waiting is handled by `read_body_before_refusing()`: a photo of known, acceptable length
is read and thrown away, so the response is not lost to a connection reset and the
connection stays open for the retry with credentials (wget without
`--auth-no-challenge` does exactly that); anything else is answered at once and the
connection closed after the response.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from http.client import responses
from typing import Any

import tornado.web

from ingest_http import metrics
from ingest_http.auth import CHALLENGE, check_login, parse_basic
from ingest_http.idle import IdleTimer, IdleWatch
from ingest_http.publisher import Publisher
from ingest_http.throttle import LoginThrottle
from sensr.cameras import CameraTable
from sensr.logs import get_logger

log = get_logger(__name__)


class UploadRejected(tornado.web.HTTPError):
    """An upload refused: HTTP status, a short `cause` (the metric label and the JSON
    `error`), a message for the client and extra response headers."""

    def __init__(self, status: int, cause: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.cause = cause
        self.message = message
        self.headers = headers or {}


@dataclass(frozen=True)
class UploadContext:
    """Everything the upload handlers need, made once by the service."""

    cameras: CameraTable
    publisher: Publisher
    throttle: LoginThrottle
    max_frame_bytes: int
    idle: IdleWatch
    stream_in_flight_bytes: int
    accepting: Callable[[], bool]
    """True once uploads can be taken (logins loaded, Kafka metadata warmed)."""


class UploadHandler(tornado.web.RequestHandler):
    """Base of the upload handlers: `self.camera` is the path's camera, logged in."""

    context: UploadContext
    camera: str
    rejection: UploadRejected | None
    """A refusal decided in prepare() and answered after the body was read and dropped."""
    refusal_cause: str | None
    """The `cause` of the error response sent, for the access log."""

    def initialize(self, context: UploadContext) -> None:
        self.context = context
        self.camera = ""
        self.rejection = None
        self.refusal_cause = None
        self._idle: IdleTimer | None = None

    def read_body_before_refusing(self) -> bool:
        """Whether a refusal may wait until the body has been read (see module docstring)."""
        return False

    async def prepare(self) -> None:
        self.camera = self.path_kwargs["camera"]
        if not self.context.accepting():
            raise UploadRejected(503, "not_ready", "the service is starting or restarting; try again shortly",
                                 {"Retry-After": "5"})
        wait = self.context.throttle.admit(self.request.remote_ip or "")
        if wait is None:
            raise UploadRejected(429, "too_many_failed_logins", "too many failed logins from this address; slow down",
                                 {"Retry-After": "60"})
        if wait > 0:
            metrics.SLOWED_LOGINS.inc()
            await asyncio.sleep(wait)
        denied = check_login(self.context.cameras, self.camera, parse_basic(self.request.headers.get("Authorization")))
        if denied is not None:
            if denied.failed_login:
                self.context.throttle.record_failure(self.request.remote_ip or "")
            headers = {"WWW-Authenticate": CHALLENGE} if denied.status == 401 else {}
            self._refuse(UploadRejected(denied.status, denied.reason, denied.message, headers))
        self._idle = self.context.idle.watch(self._on_idle)

    def _refuse(self, rejection: UploadRejected) -> None:
        """Refuse now (raise), or after the body when `read_body_before_refusing()`."""
        if self.read_body_before_refusing():
            self.rejection = rejection
        else:
            raise rejection

    def body_arrived(self) -> None:
        """Note that body bytes just arrived (resets the silence timeout)."""
        if self._idle is not None:
            self._idle.touch()

    def hold_client(self, held: bool) -> None:
        """Say whether the server is holding the client back (flow control), so that the
        silence this causes does not count against the client."""
        if self._idle is not None:
            self._idle.paused = held

    def body_complete(self) -> None:
        self._stop_idle_timer()

    def _on_idle(self) -> None:
        log.info("upload_idle_timeout", camera=self.camera, client=self.request.remote_ip,
                 seconds=self.context.idle.timeout)
        self.request.connection.close()

    def _stop_idle_timer(self) -> None:
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None

    def on_connection_close(self) -> None:
        self._stop_idle_timer()
        super().on_connection_close()

    def on_finish(self) -> None:
        self._stop_idle_timer()

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        error = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(error, UploadRejected):
            cause, message = error.cause, error.message
            for name, value in error.headers.items():
                self.set_header(name, value)
        else:
            cause = responses.get(status_code, "error").lower().replace(" ", "_")
            message = self._reason
        if status_code == 405:
            self.set_header("Allow", ", ".join(self.SUPPORTED_METHODS))
        self.refusal_cause = cause
        metrics.REJECTS.labels(cause).inc()
        self.finish({"error": cause, "message": message})

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if not isinstance(value, tornado.web.HTTPError):  # refusals are in the access log
            super().log_exception(typ, value, tb)
