"""`python -m notifier`: one notifier replica (any number may run; they share the
consumer group "notifier" and the delivery log, so each alert is sent once).

SIGTERM or SIGINT: stop reading, let the sends under way finish, leave the group, exit 0.
"""

from __future__ import annotations

from notifier.service import NotifierService
from sensr.lifecycle import run_async_service
from sensr.logs import configure_logging
from sensr.settings import load_settings


def main() -> None:
    settings = load_settings()
    configure_logging(settings.core, "notifier")
    run_async_service(lambda stop: NotifierService(settings, stop))


if __name__ == "__main__":
    main()
