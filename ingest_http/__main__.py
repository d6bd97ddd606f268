"""`python -m ingest_http` (console script `sensr-ingest-http`): run the HTTP ingest edge
until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import signal

from ingest_http.service import IngestHttpService
from sensr.logs import configure_logging
from sensr.settings import Settings, load_settings


def main() -> None:
    settings = load_settings()
    configure_logging(settings.core, "ingest_http")
    asyncio.run(_serve(settings))


async def _serve(settings: Settings) -> None:
    service = IngestHttpService(settings)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    await service.start()
    await stopping.wait()
    await service.stop()


if __name__ == "__main__":
    main()
