"""`python -m ingest_http` (console script `sensr-ingest-http`): run the HTTP ingest edge
until SIGTERM or SIGINT."""

from __future__ import annotations

from ingest_http.service import IngestHttpService
from sensr.lifecycle import run_async_service
from sensr.logs import configure_logging
from sensr.settings import load_settings


def main() -> None:
    settings = load_settings()
    configure_logging(settings.core, "ingest_http")
    run_async_service(lambda stop: IngestHttpService(settings, stop))


if __name__ == "__main__":
    main()
