"""Operations endpoints every service has: `/healthz` (the process is alive), `/readyz`
(its dependencies are reachable and it can serve) and `/metrics` (Prometheus).

Tornado services mount `ops_handlers(...)` in their application; the FTP edge and the
catalog worker, which have no HTTP server of their own, run `OpsServer` on a side port.
Asyncio services probe their dependencies with `PeriodicProbe`, so `/readyz` answers from
the latest result and never waits on the network from the event loop.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Generic, TypeVar

import tornado.web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from sensr.logs import get_logger

log = get_logger(__name__)
T = TypeVar("T")

ReadyCheck = Callable[[], dict[str, bool]]
"""Returns each dependency's name and whether it is ready; the service is ready when all are."""


def answers(probe: Callable[[], bool]) -> bool:
    """What a /readyz check reports for `probe`: its answer, or False if it raised (any
    failure of a probe means "not ready")."""
    try:
        return bool(probe())
    except Exception:
        return False


def _ready_body(check: ReadyCheck) -> tuple[int, bytes]:
    try:
        checks = check()
    except Exception as error:  # a failing check means not ready, never a crash of the endpoint
        checks = {"check": False}
        body = {"ready": False, "checks": checks, "error": str(error)}
        return 503, json.dumps(body).encode()
    ready = all(checks.values())
    return (200 if ready else 503), json.dumps({"ready": ready, "checks": checks}).encode()


class _HealthHandler(tornado.web.RequestHandler):
    def get(self) -> None:
        self.set_header("Content-Type", "application/json")
        self.finish(b'{"alive":true}')

    head = get  # uptime monitors send HEAD; Tornado drops the body


class _ReadyHandler(tornado.web.RequestHandler):
    def initialize(self, check: ReadyCheck) -> None:
        self.check = check

    def get(self) -> None:
        status, body = _ready_body(self.check)
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(body)

    head = get


class _MetricsHandler(tornado.web.RequestHandler):
    def get(self) -> None:
        self.set_header("Content-Type", CONTENT_TYPE_LATEST)
        self.finish(generate_latest())

    head = get


def ops_handlers(check: ReadyCheck) -> list[Any]:
    """Tornado routes for /healthz, /readyz and /metrics."""
    return [
        (r"/healthz", _HealthHandler),
        (r"/readyz", _ReadyHandler, {"check": check}),
        (r"/metrics", _MetricsHandler),
    ]


class OpsServer:
    """The three endpoints on a side port, served from a daemon thread."""

    def __init__(self, host: str, port: int, check: ReadyCheck) -> None:
        outer_check = check

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                if self.path == "/healthz":
                    status, body, ctype = 200, b'{"alive":true}', "application/json"
                elif self.path == "/readyz":
                    status, body = _ready_body(outer_check)
                    ctype = "application/json"
                elif self.path == "/metrics":
                    status, body, ctype = 200, generate_latest(), CONTENT_TYPE_LATEST
                else:
                    status, body, ctype = 404, b'{"error":"not_found"}', "application/json"
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_HEAD = do_GET  # noqa: N815 (uptime monitors send HEAD)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="ops-server", daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def start(self) -> "OpsServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class PeriodicProbe(Generic[T]):
    """Runs the coroutine function `probe` every `interval` seconds on the event loop and
    keeps its latest result in `latest` (`initial` until the first probe finished);
    a change is logged as `<name>` with the new result."""

    def __init__(self, name: str, probe: Callable[[], Awaitable[T]], initial: T, interval: float = 2.0) -> None:
        self.name, self.latest = name, initial
        self._probe, self._interval = probe, interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            result = await self._probe()
            if result != self.latest:
                log.info(self.name, result=result)
            self.latest = result
            await asyncio.sleep(self._interval)
