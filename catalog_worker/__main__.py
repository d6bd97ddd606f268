"""`python -m catalog_worker` (console script `sensr-catalog-worker`): one replica.

SIGTERM or SIGINT: finish the batch in hand, commit it, leave the group, exit 0.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

from catalog_worker.malloc import return_large_blocks_to_the_os
from catalog_worker.service import CatalogWorker, Stopped
from sensr.logs import configure_logging, get_logger
from sensr.settings import load_settings


def main() -> None:
    settings = load_settings()
    configure_logging(settings.core, "catalog_worker")
    return_large_blocks_to_the_os()
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        get_logger(__name__).info("stop_requested", signal=signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        CatalogWorker(settings, stop).run()
    except Stopped:
        pass  # asked to stop before it was up: nothing to finish


if __name__ == "__main__":
    main()
