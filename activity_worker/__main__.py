"""`python -m activity_worker`: one replica.

SIGTERM or SIGINT: finish the batch in hand, commit it, leave the group, exit 0.
"""

from __future__ import annotations

from activity_worker.service import ActivityWorker
from sensr.lifecycle import run_service
from sensr.logs import configure_logging
from sensr.settings import load_settings


def main() -> None:
    settings = load_settings()
    configure_logging(settings.core, "activity_worker")
    run_service(lambda stop: ActivityWorker(settings, stop))


if __name__ == "__main__":
    main()
