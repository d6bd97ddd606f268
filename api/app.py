"""The api's Tornado application: operations endpoints, API v1 and the web UI in one route table."""

from __future__ import annotations

from typing import Any

import tornado.web

from api.services import Services
from api.ui import ui_handlers, ui_settings
from api.v1.routes import handlers
from sensr.logs import get_logger
from sensr.ops import ReadyCheck, ops_handlers

access_log = get_logger("api.access")
_PROBES = frozenset({"/healthz", "/readyz", "/metrics"})


def make_app(services: Services, ready: ReadyCheck, **settings: Any) -> tornado.web.Application:
    """`ready` answers /readyz; `settings` go to Tornado, over the web UI's own (template
    path, cookie secret, ...)."""
    return tornado.web.Application([*ops_handlers(ready), *handlers(services), *ui_handlers(services)],
                                   log_function=log_request, **{**ui_settings(services), **settings})


def log_request(handler: tornado.web.RequestHandler) -> None:
    """One access-log line per request, with the path but never the query string: share
    tokens travel there."""
    request = handler.request
    status = handler.get_status()
    if status >= 500:
        log_method = access_log.error
    elif request.path in _PROBES:
        log_method = access_log.debug  # polled every few seconds: noise at INFO
    else:
        log_method = access_log.info if status < 400 else access_log.warning
    log_method("request", method=request.method, path=request.path, status=status,
               ms=round(1000 * request.request_time(), 1), client=request.remote_ip)
