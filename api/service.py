"""The api as a service: it listens once the database and Kafka answer, and on a stop
closes its port and connections before its clients (run by `sensr.lifecycle.run_async_service`)."""

from __future__ import annotations

import asyncio

from kafka.errors import KafkaError
from sqlalchemy.exc import DBAPIError

from api.app import make_app
from api.links import warn_if_unset
from api.services import Services
from sensr.http_server import CappedHTTPServer
from sensr.lifecycle import wait_for_async
from sensr.logs import get_logger
from sensr.health import PeriodicProbe
from sensr.settings import Settings

log = get_logger("api")
MAX_BODY_BYTES = 1024 * 1024  # JSON requests are small; nothing is uploaded here
CLOSE_SECONDS = 10.0  # open connections (live views, event streams) get this long to close


class ApiService:
    """The api as an `AsyncService` (see `sensr.lifecycle`): it listens once the database
    and Kafka answer."""

    def __init__(self, settings: Settings, stop: asyncio.Event) -> None:
        self._settings, self._stop = settings, stop
        self._services: Services | None = None
        self._readiness: PeriodicProbe[dict[str, bool]] | None = None
        self._server: CappedHTTPServer | None = None

    async def start(self) -> None:
        settings, api = self._settings, self._settings.api
        warn_if_unset(settings)
        self._services = services = await wait_for_async(
            "database and kafka", lambda: asyncio.to_thread(Services.open, settings), self._stop,
            max_delay=settings.core.dependency_wait_max_seconds, errors=(DBAPIError, KafkaError, OSError))
        # Probed in the background: /readyz answers at once, never waiting on the network.
        self._readiness = readiness = PeriodicProbe("readiness", lambda: services.run(services.ready),
                                                    initial={"database": False, "kafka": False, "s3": False})
        readiness.start()
        self._server = CappedHTTPServer(
            make_app(services, lambda: dict(readiness.latest)), name="api",
            max_connections_per_address=api.api_max_connections_per_address,
            idle_connection_timeout=api.api_header_timeout, body_timeout=api.api_body_timeout,
            max_body_size=MAX_BODY_BYTES)
        self._server.listen(api.api_port, api.api_host)
        log.info("api_listening", host=api.api_host, port=api.api_port)

    async def drain(self) -> None:
        """Close the port, then the open connections (requests are short; streams end)."""
        assert self._server is not None  # started
        self._server.stop()
        try:
            await asyncio.wait_for(self._server.close_all_connections(), CLOSE_SECONDS)
        except asyncio.TimeoutError:
            log.warning("shutdown_connections_left_open", grace=CLOSE_SECONDS)

    async def close(self) -> None:
        if self._server is not None:
            self._server.stop()
        if self._readiness is not None:
            await self._readiness.stop()
        if self._services is not None:
            self._services.close()
