"""The api's Tornado application: the operations endpoints and two sibling surfaces, the
JSON API (`api.v1`) and the web UI (`api.ui`), each a route table over the same services
and the same caller resolver (`api.callers`)."""

from __future__ import annotations

from typing import Any

import tornado.web

from api.callers import CallerResolver
from api.services import Services
from api.sessions import cookie_secret
from api.ui.routes import ui_handlers, ui_settings
from api.v1.routes import v1_handlers
from sensr.logs import get_logger
from sensr.health import ReadyCheck, ops_handlers

access_log = get_logger("api.access")
_PROBES = frozenset({"/healthz", "/readyz", "/metrics"})


def make_app(services: Services, ready: ReadyCheck, **settings: Any) -> tornado.web.Application:
    """`ready` answers /readyz; `settings` go to Tornado, over the application's own
    (cookie secret, XSRF protection, the web UI's template path, ...)."""
    callers = CallerResolver(services)
    return tornado.web.Application(
        [*ops_handlers(ready), *v1_handlers(services, callers), *ui_handlers(services, callers)],
        log_function=log_request, **{**cookie_settings(services), **ui_settings(services, callers), **settings})


def cookie_settings(services: Services) -> dict[str, Any]:
    """The secret that signs session cookies (`api.sessions`), and XSRF protection for
    every handler: the web UI's forms need it; the JSON API's handlers opt out
    (`api.handlers.JsonHandler.check_xsrf_cookie`)."""
    return {
        "cookie_secret": cookie_secret(services.settings),
        "xsrf_cookies": True,
        "xsrf_cookie_kwargs": {"httponly": True, "samesite": "Lax", "secure": services.settings.api.secure_cookies},
    }


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
