"""What the photo and stream endpoints share: the login check in `prepare()`, a silence
timeout on the body, the end of an upload whose login is revoked, and refusals turned
into JSON responses in one place.

Why the login is checked in `prepare()`: Tornado answers `Expect: 100-continue` only
after `prepare()` returns, so a refused client (ffmpeg, curl with a large file) gets its
401/403/404/413 before it sends the body, and the connection is closed.

A refused client that sends the body without waiting gets its answer at once too, with
`Connection: close`, and the connection is closed as soon as the body is in or
`REFUSED_BODY_GRACE` seconds have passed, whichever comes first: the refused body is
never read to its declared length (a client trickling a byte every few seconds would
hold the connection for hours). The bytes that do arrive meanwhile are read and
dropped, so that closing does not reset the connection before the client read the
answer: wget sends its whole body, then reads the 401 challenge and comes back with
credentials on a new connection. (A body that takes longer than the grace, a large
photo over a slow link sent before the challenge, is cut off: such a camera should send
its credentials up front, as curl `-u` and wget `--auth-no-challenge` do.)

While an upload is open, a change of its camera's record (password rotated, camera
disabled or deleted) re-checks its login (`LoginWatch`, `HeldLogin`); when the login
no longer holds, nothing more of the upload is published and the connection is closed.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from http.client import responses
from typing import Any

import tornado.web

from ingest_http import metrics
from ingest_http.auth import CHALLENGE, HeldLogin, LoginDenied, check_login, parse_basic
from ingest_http.idle import IdleTimer, IdleWatch
from ingest_http.logins import LoginWatch
from ingest_http.publisher import Publisher
from ingest_http.throttle import LoginThrottle
from sensr.cameras import CameraTable
from sensr.logs import get_logger
from sensr.text import has_control_characters

log = get_logger(__name__)

REFUSED_BODY_GRACE = 2.0
"""Seconds a refused client may go on sending its body before the connection is closed."""


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
    logins: LoginWatch
    publisher: Publisher
    throttle: LoginThrottle
    max_frame_bytes: int
    max_frame_pixels: int
    idle: IdleWatch
    stream_in_flight_bytes: int
    accepting: Callable[[], bool]
    """True once uploads can be taken (logins loaded, Kafka metadata warmed)."""


class UploadHandler(tornado.web.RequestHandler):
    """Base of the upload handlers: `self.camera` is the path's camera, logged in."""

    context: UploadContext
    camera: str
    rejection: UploadRejected | None
    """A refusal answered in prepare() while the client sends its body (dropped)."""
    refusal_cause: str | None
    """The `cause` of the error response sent, for the access log."""

    def initialize(self, context: UploadContext) -> None:
        self.context = context
        self.camera = ""
        self.rejection = None
        self.refusal_cause = None
        self._idle: IdleTimer | None = None
        self._login: HeldLogin | None = None
        self._unwatch: Callable[[], None] | None = None
        self._grace: asyncio.TimerHandle | None = None

    async def prepare(self) -> None:
        self.camera = self.path_kwargs["camera"]
        rejection = await self._log_in()
        if rejection is not None:
            await self.refuse(rejection)
            return
        self._idle = self.context.idle.watch(self._on_idle)

    async def _log_in(self) -> UploadRejected | None:
        """Check that the request may upload to `self.camera`, and hold its login."""
        if has_control_characters(self.camera):  # never into a Kafka key or header, the index or a log line
            return UploadRejected(400, "bad_camera_name", "the camera name in the path has control characters")
        if not self.context.accepting():
            return UploadRejected(503, "not_ready", "the service is starting or restarting; try again shortly",
                                  {"Retry-After": "5"})
        wait = self.context.throttle.admit(self.request.remote_ip or "")
        if wait is None:
            return UploadRejected(429, "too_many_failed_logins", "too many failed logins from this address; "
                                  "slow down", {"Retry-After": "60"})
        if wait > 0:
            metrics.SLOWED_LOGINS.inc()
            await asyncio.sleep(wait)
        # Watch before reading the record: a change after this is reported, one before is read.
        self._unwatch = self.context.logins.watch(self.camera, self._login_changed)
        cameras = self.context.cameras
        record = cameras.get(self.camera)
        credentials = parse_basic(self.request.headers.get("Authorization"))
        denied = check_login(cameras, self.camera, credentials)
        if denied is None:
            assert credentials is not None
            self._login = HeldLogin(cameras, self.camera, credentials, record)
            return None
        if denied.failed_login:
            self.context.throttle.record_failure(self.request.remote_ip or "")
        headers = {"WWW-Authenticate": CHALLENGE} if denied.status == 401 else {}
        return UploadRejected(denied.status, denied.reason, denied.message, headers)

    async def refuse(self, rejection: UploadRejected) -> None:
        """Refuse in prepare(): raise when no body follows (or the client waits for
        `100 Continue`); else answer now and close once the body is in or after the grace
        (see module docstring)."""
        self._release()
        headers = self.request.headers
        expects_continue = headers.get("Expect", "").lower() == "100-continue"
        body_follows = "Transfer-Encoding" in headers or (self.content_length() or 0) > 0
        if expects_continue or not body_follows:
            raise rejection
        self.rejection = rejection
        body = json.dumps(self._refusal(rejection.status_code, rejection)).encode()
        self.set_status(rejection.status_code)
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.set_header("Content-Length", str(len(body)))
        self.set_header("Connection", "close")
        self.write(body)
        self._grace = asyncio.get_running_loop().call_later(REFUSED_BODY_GRACE, self.close_refused)
        await self.flush()

    def close_refused(self) -> None:
        """The refused body is in, or its grace is over: close the connection (the
        answer is out already)."""
        if self._grace is not None:
            self._grace.cancel()
            self._grace = None
        if not self._finished:
            self.finish()  # writes nothing more; logs the request
        self.request.connection.close()

    def content_length(self) -> int | None:
        """The request's Content-Length, or None when absent or unreadable."""
        try:
            return int(self.request.headers["Content-Length"])
        except (KeyError, ValueError):
            return None

    def login_revoked(self) -> UploadRejected | None:
        """Why this upload's login no longer holds (its camera's record changed), or None."""
        denied: LoginDenied | None = self._login.revoked() if self._login is not None else None
        if denied is None:
            return None
        return UploadRejected(denied.status, "login_revoked",
                              f"the camera's login no longer holds ({denied.message}); nothing sent after that "
                              "was stored")

    def _login_changed(self) -> None:
        """The camera's record changed while the body is arriving: end the upload if
        its login no longer holds, whether or not the client is sending."""
        if self._idle is None or self._finished:
            return  # the body is in (or refused): nothing more of it will be published
        rejection = self.login_revoked()
        if rejection is not None:
            self.end_revoked(rejection)

    def end_revoked(self, rejection: UploadRejected) -> None:
        """Answer the revocation now; Tornado drops the rest of the body and closes the
        connection after the response. Subclasses stop publishing first."""
        log.info("upload_login_revoked", camera=self.camera, client=self.request.remote_ip,
                 status=rejection.status_code)
        self._release()
        self.send_error(rejection.status_code, exc_info=(UploadRejected, rejection, None))

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

    def _release(self) -> None:
        """Stop the silence timer and the login watch."""
        self._stop_idle_timer()
        if self._unwatch is not None:
            self._unwatch()
            self._unwatch = None

    def on_connection_close(self) -> None:
        self._release()
        if self._grace is not None:
            self._grace.cancel()
            self._grace = None
        super().on_connection_close()

    def on_finish(self) -> None:
        self._release()

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.finish(self._refusal(status_code, kwargs.get("exc_info", (None, None, None))[1]))

    def _refusal(self, status_code: int, error: BaseException | None) -> dict[str, str]:
        """The JSON body of an error response; sets its headers and counts it."""
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
        return {"error": cause, "message": message}

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if not isinstance(value, tornado.web.HTTPError):  # refusals are in the access log
            super().log_exception(typ, value, tb)
