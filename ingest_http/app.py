"""The route table and the access log of ingest_http."""

from __future__ import annotations

import logging

import tornado.web

from ingest_http.photo import PhotoHandler
from ingest_http.stream import StreamHandler
from ingest_http.upload import UploadContext
from sensr.logs import get_logger
from sensr.health import ReadyCheck, ops_handlers

_access = get_logger("ingest_http.access")
_access_enabled = logging.getLogger("ingest_http.access").isEnabledFor


def make_app(context: UploadContext, check: ReadyCheck) -> tornado.web.Application:
    """Photo upload, MJPEG push and the operations endpoints, on one port."""
    return tornado.web.Application(
        [
            (r"/photo/(?P<camera>[^/]+)", PhotoHandler, {"context": context}),
            (r"/upload/(?P<camera>[^/]+)", StreamHandler, {"context": context}),
            *ops_handlers(check),
        ],
        log_function=_log_request,
    )


def _log_request(handler: tornado.web.RequestHandler) -> None:
    """One line per request: failures at warning, refusals at info, the rest at debug
    (at thousands of uploads a second, successes are the metrics' job)."""
    status = handler.get_status()
    level = logging.WARNING if status >= 500 else logging.INFO if status >= 400 else logging.DEBUG
    if not _access_enabled(level):
        return
    request = handler.request
    _access.log(level, "request", method=request.method, path=request.path, status=status,
                cause=getattr(handler, "refusal_cause", None), client=request.remote_ip,
                ms=round(1000 * request.request_time(), 1))
