"""`python -m api` (or `sensr-api`): serve the JSON API (and web UI) until SIGTERM/SIGINT."""

from __future__ import annotations

from api.service import ApiService
from sensr.lifecycle import run_async_service
from sensr.logs import configure_logging
from sensr.settings import load_settings


def main() -> None:
    settings = load_settings()
    configure_logging(settings.core, "api")
    run_async_service(lambda stop: ApiService(settings, stop))


if __name__ == "__main__":
    main()
