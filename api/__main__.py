"""`python -m api` (or `sensr-api`): serve the JSON API (and web UI) until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import signal

from kafka.errors import KafkaError
from sqlalchemy.exc import DBAPIError

from api.app import make_app
from api.links import warn_if_unset
from api.services import Services
from sensr.http_server import CappedHTTPServer
from sensr.logs import configure_logging, get_logger
from sensr.ops import PeriodicProbe
from sensr.settings import Settings, load_settings

log = get_logger("api")
MAX_BODY_BYTES = 1024 * 1024  # JSON requests are small; nothing is uploaded here
MAX_RETRY_SECONDS = 30.0


async def open_services(settings: Settings, stop: asyncio.Event) -> Services | None:
    """The services, retried with backoff while the database or Kafka cannot be reached
    (a stack still starting); None when asked to stop first."""
    loop = asyncio.get_running_loop()
    delay = 0.5
    while not stop.is_set():
        try:
            return await loop.run_in_executor(None, Services.open, settings)
        except (DBAPIError, KafkaError, OSError) as error:
            log.warning("api_waiting_for_dependencies", error=str(error), retry_in=delay)
        try:
            await asyncio.wait_for(stop.wait(), delay)
        except TimeoutError:
            delay = min(delay * 2, MAX_RETRY_SECONDS)
    return None


async def serve() -> None:
    settings = load_settings()
    configure_logging(settings.core, "api")
    warn_if_unset(settings)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    services = await open_services(settings, stop)
    if services is None:
        return
    # Probed in the background: /readyz answers at once, never waiting on the network.
    readiness = PeriodicProbe("readiness", lambda: services.run(services.ready),
                              initial={"database": False, "kafka": False, "s3": False})
    readiness.start()
    app = make_app(services, lambda: dict(readiness.latest))
    api = settings.api
    server = CappedHTTPServer(app, max_connections_per_address=api.api_max_connections_per_address, name="api",
                              idle_connection_timeout=api.api_header_timeout, body_timeout=api.api_body_timeout,
                              max_body_size=MAX_BODY_BYTES)
    server.listen(api.api_port, api.api_host)
    log.info("api_listening", host=settings.api.api_host, port=settings.api.api_port)
    await stop.wait()
    log.info("api_stopping")
    server.stop()
    await readiness.stop()
    await asyncio.wait_for(server.close_all_connections(), timeout=10)
    services.close()


def main() -> None:
    asyncio.run(serve())


if __name__ == "__main__":
    main()
